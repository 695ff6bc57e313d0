/**
 * Strict checking of transform/dataset config objects: unknown or wrongly typed
 * fields fail with the transform type and the field named (the TinyViM `**kwargs`
 * swallow is the bug this prevents).
 */
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
