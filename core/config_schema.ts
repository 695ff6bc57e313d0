// A small strict schema system for configs. Each schema checks a plain JSON-like value and reports
// problems by dotted key path; unknown keys are always errors (nothing is silently ignored). Schemas
// also carry a static type (`Infer<S>`), so builders registered with a schema get typed configs.
//
// Why not zod: we need the origin file of each key in messages and registry-driven `type` unions that
// are resolved at validation time (others register their types after this module loads); a hundred
// lines of our own do both directly.
import { ConfigError, nearestNames } from './errors';

export interface Issue {
  path: string;
  message: string;
}

export interface CheckContext {
  /** The file that set the value at `path` (longest known prefix). */
  origin(path: string): string;
  issues: Issue[];
}

const join = (path: string, key: string | number): string => (path ? `${path}.${key}` : String(key));

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length} value${v.length === 1 ? '' : 's'}`;
  if (typeof v === 'object') return 'a dict';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

export abstract class Schema<T = unknown> {
  /** Phantom field carrying the static type. */
  declare readonly _type: T;
  /** Human description of what is expected ("a number", "one of 'a' | 'b'"). */
  abstract describe(): string;
  abstract check(value: unknown, path: string, ctx: CheckContext): void;
  /** Documentation shown by print-config/--help style listings. */
  doc?: string;

  protected fail(ctx: CheckContext, path: string, value: unknown): void {
    ctx.issues.push({ path, message: `expected ${this.describe()}, got ${describeValue(value)}` });
  }

  optional(): OptionalSchema<T> {
    return new OptionalSchema(this);
  }
  nullable(): NullableSchema<T> {
    return new NullableSchema(this);
  }
  describedAs(doc: string): this {
    this.doc = doc;
    return this;
  }
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

export interface NumberOptions {
  int?: boolean;
  min?: number;
  max?: number;
  /** Exclusive lower bound (e.g. 0 for a positive size or ratio). */
  gt?: number;
  /** Rejects Infinity and -Infinity. */
  finite?: boolean;
}

export class NumberSchema extends Schema<number> {
  constructor(readonly opts: NumberOptions = {}) {
    super();
  }
  describe(): string {
    const { int, min, max, gt, finite } = this.opts;
    let d = int ? 'an integer' : finite ? 'a finite number' : 'a number';
    const bounds = [gt !== undefined ? `> ${gt}` : '', min !== undefined ? `>= ${min}` : '', max !== undefined ? `<= ${max}` : ''].filter(Boolean);
    if (bounds.length) d += ` ${bounds.join(' and ')}`;
    return d;
  }
  check(v: unknown, path: string, ctx: CheckContext): void {
    const { int, min, max, gt, finite } = this.opts;
    const bad =
      typeof v !== 'number' ||
      Number.isNaN(v) ||
      (int && !Number.isInteger(v)) ||
      (finite && !Number.isFinite(v)) ||
      (min !== undefined && v < min) ||
      (max !== undefined && v > max) ||
      (gt !== undefined && !(v > gt));
    if (bad) this.fail(ctx, path, v);
  }
}

export class StringSchema extends Schema<string> {
  describe(): string {
    return 'a string';
  }
  check(v: unknown, path: string, ctx: CheckContext): void {
    if (typeof v !== 'string') this.fail(ctx, path, v);
  }
}

export class BooleanSchema extends Schema<boolean> {
  describe(): string {
    return 'true or false';
  }
  check(v: unknown, path: string, ctx: CheckContext): void {
    if (typeof v !== 'boolean') this.fail(ctx, path, v);
  }
}

export class EnumSchema<T extends string | number | boolean> extends Schema<T> {
  constructor(readonly values: readonly T[]) {
    super();
  }
  describe(): string {
    return `one of ${this.values.map((v) => JSON.stringify(v)).join(' | ')}`;
  }
  check(v: unknown, path: string, ctx: CheckContext): void {
    if (!this.values.includes(v as T)) {
      const near = typeof v === 'string' ? nearestNames(v, this.values.map(String)) : [];
      ctx.issues.push({
        path,
        message: `expected ${this.describe()}, got ${describeValue(v)}${near.length ? `; nearest valid names: ${near.join(', ')}` : ''}`,
      });
    }
  }
}

export class AnySchema extends Schema<unknown> {
  describe(): string {
    return 'any value';
  }
  check(): void {}
}

export class ArraySchema<S extends Schema> extends Schema<Infer<S>[]> {
  constructor(
    readonly item: S,
    readonly opts: { minLength?: number; length?: number } = {},
  ) {
    super();
  }
  describe(): string {
    const n = this.opts.length !== undefined ? ` of length ${this.opts.length}` : this.opts.minLength ? ` of at least ${this.opts.minLength}` : '';
    return `a list${n} of ${this.item.describe()}`;
  }
  check(v: unknown, path: string, ctx: CheckContext): void {
    const { minLength, length } = this.opts;
    if (!Array.isArray(v) || (length !== undefined && v.length !== length) || (minLength !== undefined && v.length < minLength)) {
      this.fail(ctx, path, v);
      return;
    }
    v.forEach((x, i) => this.item.check(x, join(path, i), ctx));
  }
}

type InferTuple<T extends readonly Schema[]> = { [K in keyof T]: Infer<T[K]> };

export class TupleSchema<T extends readonly Schema[]> extends Schema<InferTuple<T>> {
  constructor(readonly items: T) {
    super();
  }
  describe(): string {
    return `a list [${this.items.map((s) => s.describe()).join(', ')}]`;
  }
  check(v: unknown, path: string, ctx: CheckContext): void {
    if (!Array.isArray(v) || v.length !== this.items.length) {
      this.fail(ctx, path, v);
      return;
    }
    this.items.forEach((s, i) => s.check(v[i], join(path, i), ctx));
  }
}

export class OptionalSchema<T> extends Schema<T | undefined> {
  constructor(readonly inner: Schema<T>) {
    super();
  }
  describe(): string {
    return this.inner.describe();
  }
  check(v: unknown, path: string, ctx: CheckContext): void {
    if (v !== undefined) this.inner.check(v, path, ctx);
  }
}

export class NullableSchema<T> extends Schema<T | null> {
  constructor(readonly inner: Schema<T>) {
    super();
  }
  describe(): string {
    return `${this.inner.describe()} or null`;
  }
  check(v: unknown, path: string, ctx: CheckContext): void {
    if (v !== null) this.inner.check(v, path, ctx);
  }
}

export class UnionSchema<T extends readonly Schema[]> extends Schema<Infer<T[number]>> {
  constructor(readonly options: T) {
    super();
  }
  describe(): string {
    return this.options.map((o) => o.describe()).join(' or ');
  }
  check(v: unknown, path: string, ctx: CheckContext): void {
    // Accept the first option that reports no issue; otherwise report the option that got furthest:
    // one whose issues lie inside the value (it matched the value's kind, e.g. a dict with a wrong
    // key) before one that refused the value as a whole, then the one with the fewest issues.
    let best: Issue[] | null = null;
    const rank = (issues: Issue[]) => (issues.every((i) => i.path === path) ? 1e9 : 0) + issues.length;
    for (const o of this.options) {
      const sub: CheckContext = { origin: ctx.origin, issues: [] };
      o.check(v, path, sub);
      if (!sub.issues.length) return;
      if (!best || rank(sub.issues) < rank(best)) best = sub.issues;
    }
    // A type mismatch at the top of every option reads best as one "expected A or B" line.
    if (best && best.length === 1 && best[0].path === path) this.fail(ctx, path, v);
    else ctx.issues.push(...(best ?? []));
  }
}

export type Shape = Record<string, Schema>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type InferShape<S extends Shape> = Simplify<{ [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }>;

export class ObjectSchema<S extends Shape> extends Schema<InferShape<S>> {
  constructor(readonly shape: S) {
    super();
  }
  describe(): string {
    return 'a dict';
  }
  check(v: unknown, path: string, ctx: CheckContext): void {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.fail(ctx, path, v);
      return;
    }
    const obj = v as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      const p = join(path, key);
      if (!(key in this.shape)) {
        const near = nearestNames(key, Object.keys(this.shape));
        ctx.issues.push({ path: p, message: `unknown key '${key}'${near.length ? `; nearest valid names: ${near.join(', ')}` : ' (no keys allowed here)'}` });
      } else this.shape[key].check(obj[key], p, ctx);
    }
    for (const [key, s] of Object.entries(this.shape)) {
      if (!(key in obj) && !(s instanceof OptionalSchema)) ctx.issues.push({ path: join(path, key), message: `required key '${key}' is missing (expected ${s.describe()})` });
    }
  }
  /** A copy with more fields (for schemas that share a base set of keys). */
  extend<E extends Shape>(more: E): ObjectSchema<S & E> {
    return new ObjectSchema({ ...this.shape, ...more });
  }
}

/** A dict with arbitrary string keys, every value matching `value` (e.g. paramwise custom_keys). */
export class RecordSchema<S extends Schema> extends Schema<Record<string, Infer<S>>> {
  constructor(readonly value: S) {
    super();
  }
  describe(): string {
    return `a dict of ${this.value.describe()}`;
  }
  check(v: unknown, path: string, ctx: CheckContext): void {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.fail(ctx, path, v);
      return;
    }
    for (const [k, x] of Object.entries(v)) this.value.check(x, join(path, k), ctx);
  }
}

/** Any dict whose discriminator key (`type`, `policy`...) selects one of several object schemas. */
export interface TaggedConfig {
  type: string;
  [key: string]: unknown;
}

export class TaggedSchema<T> extends Schema<T> {
  constructor(
    readonly key: string,
    /** Resolved at validation time so registries filled after import are seen. */
    readonly variants: () => ReadonlyMap<string, ObjectSchema<Shape>>,
    readonly what: string,
  ) {
    super();
  }
  describe(): string {
    return `a ${this.what} dict with '${this.key}' in ${[...this.variants().keys()].join(' | ') || '(none registered)'}`;
  }
  check(v: unknown, path: string, ctx: CheckContext): void {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.fail(ctx, path, v);
      return;
    }
    const obj = v as Record<string, unknown>;
    const tag = obj[this.key];
    const variants = this.variants();
    const kp = join(path, this.key);
    if (typeof tag !== 'string') {
      ctx.issues.push({ path: kp, message: `required key '${this.key}' is missing or not a string (${this.what} types: ${[...variants.keys()].join(', ') || 'none registered'})` });
      return;
    }
    const schema = variants.get(tag);
    if (!schema) {
      const near = nearestNames(tag, variants.keys());
      ctx.issues.push({ path: kp, message: `unknown ${this.what} type '${tag}'; nearest valid names: ${near.join(', ') || '(none registered)'}` });
      return;
    }
    const rest = { ...obj };
    delete rest[this.key];
    schema.check(rest, path, ctx);
  }
}

/** Constructors, so schemas read as `s.object({ lr: s.number({ min: 0 }) })`. */
export const s = {
  number: (opts?: NumberOptions) => new NumberSchema(opts),
  int: (opts: Omit<NumberOptions, 'int'> = {}) => new NumberSchema({ ...opts, int: true }),
  string: () => new StringSchema(),
  boolean: () => new BooleanSchema(),
  enum: <T extends string | number | boolean>(values: readonly T[]) => new EnumSchema<T>(values),
  literal: <T extends string | number | boolean>(value: T) => new EnumSchema<T>([value]),
  any: () => new AnySchema(),
  array: <S extends Schema>(item: S, opts?: { minLength?: number; length?: number }) => new ArraySchema(item, opts),
  tuple: <T extends readonly Schema[]>(...items: T) => new TupleSchema(items),
  object: <S extends Shape>(shape: S) => new ObjectSchema(shape),
  record: <S extends Schema>(value: S) => new RecordSchema(value),
  union: <T extends readonly Schema[]>(...options: T) => new UnionSchema(options),
  tagged: <T = TaggedConfig>(key: string, variants: () => ReadonlyMap<string, ObjectSchema<Shape>>, what: string) => new TaggedSchema<T>(key, variants, what),
  /** A static set of variants keyed by a discriminator (e.g. lr_config.policy). */
  oneOf: <Key extends string, V extends Record<string, ObjectSchema<Shape>>>(key: Key, variants: V, what: string) =>
    new TaggedSchema<{ [K in keyof V]: Infer<V[K]> & Record<Key, K> }[keyof V]>(key, () => new Map(Object.entries(variants)), what),
};

/**
 * Checks `value` against `schema` and throws a ConfigError naming the key path, the file that set it
 * and what was expected. Other issues (if any) are counted in the message; all are on `error.issues`.
 * `root` prefixes every key path (e.g. `pipeline[1].Resize` when a transform config is checked on its own).
 */
export function validate<S extends Schema>(schema: S, value: unknown, origin: (path: string) => string = () => '', root = ''): Infer<S> {
  const ctx: CheckContext = { origin, issues: [] };
  schema.check(value, root, ctx);
  if (ctx.issues.length) {
    const first = ctx.issues[0];
    const file = origin(first.path);
    const more = ctx.issues.length > 1 ? ` (and ${ctx.issues.length - 1} more problem${ctx.issues.length > 2 ? 's' : ''}: ${ctx.issues.slice(1, 4).map((i) => i.path || '<root>').join(', ')})` : '';
    const err = new ConfigError(`${file ? `${file}: ` : ''}${first.path || '<root>'}: ${first.message}${more}`, first.path, file);
    (err as ConfigError & { issues: Issue[] }).issues = ctx.issues;
    throw err;
  }
  return value as Infer<S>;
}
