/**
 * The one validation language of data configs (datasets and transforms): each type declares its
 * fields once as a FieldSpec; buildDataset/buildPipeline check them strictly (unknown or wrongly
 * typed fields fail with the type and the field named — the TinyViM `**kwargs` swallow is the bug
 * this prevents) and the DATASETS registry validates with the same spec through specSchema.
 */
import { type CheckContext, ObjectSchema, Schema, type Shape } from '../core/config_schema';
import { DataConfigError } from './errors';

export type FieldCheck = (v: unknown) => string | null; // null = ok, else "expected ..."

export const isNum: FieldCheck = (v) => (typeof v === 'number' && Number.isFinite(v) ? null : 'expected a finite number');
export const isPosInt: FieldCheck = (v) => (Number.isInteger(v) && (v as number) > 0 ? null : 'expected a positive integer');
export const isBool: FieldCheck = (v) => (typeof v === 'boolean' ? null : 'expected true or false');
export const isStr: FieldCheck = (v) => (typeof v === 'string' ? null : 'expected a string');
export const isProb: FieldCheck = (v) => (typeof v === 'number' && v >= 0 && v <= 1 ? null : 'expected a number in [0, 1]');
export const isPair: FieldCheck = (v) =>
  Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0)
    ? null
    : 'expected a pair of positive numbers [a, b]';
export const isTriple: FieldCheck = (v) =>
  Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x))
    ? null
    : 'expected three numbers [a, b, c]';
export const isStrList: FieldCheck = (v) =>
  Array.isArray(v) && v.every((x) => typeof x === 'string') ? null : 'expected a list of strings';
export const oneOf =
  (...allowed: string[]): FieldCheck =>
  (v) =>
    typeof v === 'string' && allowed.includes(v) ? null : `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}`;
export const isObj: FieldCheck = (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? null : 'expected an object');
export const isArr: FieldCheck = (v) => (Array.isArray(v) ? null : 'expected a list');

export interface FieldSpec {
  required?: Record<string, FieldCheck>;
  optional?: Record<string, FieldCheck>;
}

/** Validates `cfg` (which has `type`) against `spec`; throws DataConfigError. */
export function checkFields(where: string, cfg: Record<string, unknown>, spec: FieldSpec): void {
  const req = spec.required ?? {};
  const opt = spec.optional ?? {};
  for (const key of Object.keys(cfg)) {
    if (key === 'type') continue;
    const check = req[key] ?? opt[key];
    if (!check) {
      const allowed = [...Object.keys(req), ...Object.keys(opt)];
      throw new DataConfigError(where, key, `unknown field (allowed: ${allowed.join(', ') || 'none'})`);
    }
    if (cfg[key] === undefined && key in opt) continue;
    const err = check(cfg[key]);
    if (err) throw new DataConfigError(where, key, `${err}, got ${JSON.stringify(cfg[key])}`);
  }
  for (const key of Object.keys(req))
    if (cfg[key] === undefined) throw new DataConfigError(where, key, 'required field is missing');
}

/** A FieldCheck as a core config schema, so the DATASETS registry validates with the same checks. */
class FieldCheckSchema extends Schema<unknown> {
  constructor(readonly fieldCheck: FieldCheck) {
    super();
  }
  describe(): string {
    return 'a value this field accepts';
  }
  check(v: unknown, path: string, ctx: CheckContext): void {
    const err = this.fieldCheck(v);
    if (err) ctx.issues.push({ path, message: `${err}, got ${JSON.stringify(v)}` });
  }
}

/**
 * The registry schema of a FieldSpec (the one declaration of a data config's fields): required
 * fields required, optional ones optional, unknown keys errors. `override` replaces single fields
 * (e.g. RepeatDataset's nested `dataset`, validated as a dataset config).
 */
export function specSchema(spec: FieldSpec, override: Shape = {}): ObjectSchema<Shape> {
  const shape: Shape = {};
  for (const [k, c] of Object.entries(spec.required ?? {})) shape[k] = new FieldCheckSchema(c);
  for (const [k, c] of Object.entries(spec.optional ?? {})) shape[k] = new FieldCheckSchema(c).optional();
  for (const [k, sch] of Object.entries(override)) shape[k] = k in (spec.required ?? {}) ? sch : sch.optional();
  return new ObjectSchema(shape);
}
