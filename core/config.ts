// Config files: TypeScript modules whose default export is `defineConfig({...})`.
// Inheritance follows mmcv's Config: `_base_` files are loaded first (their keys must not overlap),
// then the child deep-merges into them: dicts merge key by key, lists and scalars replace, and
// `_delete_: true` in a child dict replaces the base subtree instead of merging. `--cfg-options`
// overrides are applied last (`a.b.c=value`, list indices as in `a.0.b=value`). Every key remembers
// the file that set it, so validation errors name it.
import { existsSync } from '#platform/fs';
import { dirname, relative, resolve } from '#platform/path';
import { pathToFileURL } from '#platform/url';
import { type Config, rootSchema } from './config_root';
import { type Schema, validate } from './config_schema';
import { ConfigError } from './errors';

export type { Config } from './config_root';

type Plain = Record<string, unknown>;

/** Every dict may carry `_delete_`; lists are replaced whole, so they keep their full type. */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> } & { _delete_?: boolean }
    : T;

export type ConfigInput = DeepPartial<Config> & { _base_?: string | string[] };

/** Identity with a type: gives config files completion and type errors. */
export function defineConfig(cfg: ConfigInput): ConfigInput {
  return cfg;
}

export interface LoadedConfig {
  cfg: Config;
  /** Files read, the requested file first. */
  files: string[];
  /** The file (or '--cfg-options') that set the value at a dotted key path. */
  origin(path: string): string;
}

const isDict = (v: unknown): v is Plain => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Key path -> file that set the value there; lookups fall back to the longest recorded prefix. */
class Origins {
  readonly map = new Map<string, string>();
  set(path: string, file: string): void {
    for (const k of [...this.map.keys()]) if (k.startsWith(`${path}.`)) this.map.delete(k);
    this.map.set(path, file);
  }
  get(path: string): string {
    let p = path;
    for (;;) {
      const f = this.map.get(p);
      if (f !== undefined) return f;
      const i = p.lastIndexOf('.');
      if (i < 0) return this.map.get('') ?? '';
      p = p.slice(0, i);
    }
  }
  absorb(other: Origins): void {
    for (const [k, v] of other.map) this.map.set(k, v);
  }
}

const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

/** Deep copy of a JSON-like value with every `_delete_` flag removed (for values not merged into a base). */
function stripDelete(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDelete);
  if (!isDict(v)) return v;
  const out: Plain = {};
  for (const [k, x] of Object.entries(v)) if (k !== '_delete_') out[k] = stripDelete(x);
  return out;
}

/** mmcv's `_merge_a_into_b`, returning a new dict and recording the origin of every key it sets. */
function mergeInto(child: Plain, base: Plain, file: string, origins: Origins, path = ''): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(child)) {
    if (k === '_delete_') continue;
    const p = join(path, k);
    if (isDict(v) && k in base && v._delete_ !== true) {
      if (!isDict(base[k])) {
        throw new ConfigError(
          `${file}: ${p}: is a dict here but ${Array.isArray(base[k]) ? 'a list' : base[k] === null ? 'null' : typeof base[k]} in the base config (${origins.get(p)}); set _delete_: true to replace it`,
          p,
          file,
        );
      }
      out[k] = mergeInto(v, base[k] as Plain, file, origins, p);
    } else {
      out[k] = stripDelete(v);
      origins.set(p, file);
    }
  }
  return out;
}

function display(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

async function importConfig(file: string): Promise<Plain> {
  if (!existsSync(file)) throw new ConfigError(`config file not found: ${display(file)}`, '', display(file));
  let mod: { default?: unknown };
  try {
    // Note: ESM caches modules, so a file edited within one process is not re-read.
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    throw new ConfigError(`${display(file)}: cannot load config module: ${(e as Error).message.split('\n')[0]}`, '', display(file));
  }
  if (!isDict(mod.default)) throw new ConfigError(`${display(file)}: the default export must be a config dict (export default defineConfig({...}))`, '', display(file));
  return structuredClone(mod.default);
}

async function loadRaw(file: string, stack: string[]): Promise<{ cfg: Plain; origins: Origins; files: string[] }> {
  const abs = resolve(file);
  if (stack.includes(abs)) throw new ConfigError(`${display(abs)}: circular _base_ inheritance (${[...stack, abs].map(display).join(' -> ')})`, '_base_', display(abs));
  const name = display(abs);
  const raw = await importConfig(abs);
  const baseList = raw._base_ === undefined ? [] : Array.isArray(raw._base_) ? raw._base_ : [raw._base_];
  delete raw._base_;
  let merged: Plain = {};
  const origins = new Origins();
  const files = [abs];
  for (const b of baseList) {
    if (typeof b !== 'string') throw new ConfigError(`${name}: _base_: expected a path or a list of paths, got ${JSON.stringify(b)}`, '_base_', name);
    const base = await loadRaw(resolve(dirname(abs), b), [...stack, abs]);
    for (const k of Object.keys(base.cfg)) {
      if (k in merged) throw new ConfigError(`${name}: key '${k}' is set by two _base_ files (${origins.get(k)} and ${base.origins.get(k)}); bases must not overlap`, k, name);
    }
    merged = { ...merged, ...base.cfg };
    origins.absorb(base.origins);
    files.push(...base.files);
  }
  return { cfg: mergeInto(raw, merged, name, origins), origins, files };
}

/** Parses one `--cfg-options` value as mmcv's DictAction does: numbers, booleans, None/null, lists. */
export function parseCfgValue(text: string): unknown {
  const v = text.trim();
  const open = v[0];
  if ((open === '[' && v.endsWith(']')) || (open === '(' && v.endsWith(')'))) {
    const inner = v.slice(1, -1).trim();
    return inner === '' ? [] : splitTopLevel(inner).map(parseCfgValue);
  }
  const parts = splitTopLevel(v);
  if (parts.length > 1) return parts.map(parseCfgValue);
  if (/^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  if (/^(none|null)$/i.test(v)) return null;
  if (v !== '' && Number.isFinite(Number(v))) return Number(v);
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0])) return v.slice(1, -1);
  return v;
}

/** Splits on commas that are not inside brackets or parentheses. */
function splitTopLevel(v: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(v.slice(start, i));
      start = i + 1;
    }
  }
  const last = v.slice(start);
  if (last.trim() !== '' || out.length === 0) out.push(last);
  return out;
}

/** Applies `key.path=value` overrides in place; list elements are addressed by index (a.0.b). */
export function applyCfgOptions(cfg: Plain, options: string[], origins?: Origins): void {
  for (const opt of options) {
    const eq = opt.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--cfg-options: expected key.path=value, got '${opt}'`, '', '--cfg-options');
    const path = opt.slice(0, eq).trim();
    const value = parseCfgValue(opt.slice(eq + 1));
    const keys = path.split('.');
    let node: unknown = cfg;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const last = i === keys.length - 1;
      const here = keys.slice(0, i + 1).join('.');
      if (Array.isArray(node)) {
        const idx = Number(k);
        if (!Number.isInteger(idx) || idx < 0 || idx >= node.length) {
          throw new ConfigError(`--cfg-options: ${here}: '${k}' is not an index of the ${node.length}-element list at ${keys.slice(0, i).join('.')}`, here, '--cfg-options');
        }
        if (last) node[idx] = value;
        else node = node[idx];
      } else if (isDict(node)) {
        if (last) node[k] = value;
        else {
          if (!(k in node)) node[k] = {};
          node = node[k];
        }
      } else {
        throw new ConfigError(`--cfg-options: ${here}: cannot set a key inside ${JSON.stringify(node)} at ${keys.slice(0, i).join('.')}`, here, '--cfg-options');
      }
    }
    origins?.set(path, '--cfg-options');
  }
}

/**
 * Loads a config file with its bases, applies overrides and validates the result against `schema`
 * (the root schema by default). Throws ConfigError naming key path, file and nearest valid names.
 */
export async function loadConfig(file: string, cfgOptions: string[] = [], schema: Schema = rootSchema): Promise<LoadedConfig> {
  const { cfg, origins, files } = await loadRaw(file, []);
  origins.map.set('', display(resolve(file)));
  applyCfgOptions(cfg, cfgOptions, origins);
  const origin = (p: string) => origins.get(p);
  validate(schema, cfg, origin);
  return { cfg: cfg as Config, files, origin };
}

/** Loads and merges without validation (print_config --no-validate, debugging a broken config). */
export async function loadConfigUnchecked(file: string, cfgOptions: string[] = []): Promise<Plain> {
  const { cfg, origins } = await loadRaw(file, []);
  applyCfgOptions(cfg, cfgOptions, origins);
  return cfg;
}

/** Pretty-prints a resolved config as a TypeScript config file. */
export function formatConfig(cfg: unknown): string {
  return `export default ${prettyJson(cfg, 0, 'export default '.length)};\n`;
}

/** One-line JSON with spaces after `,` and `:` (still valid JSON). */
function inlineJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(inlineJson).join(', ')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}: ${inlineJson(x)}`).join(', ')}}`;
  return JSON.stringify(v) ?? 'null';
}

/**
 * JSON indented by 2, but a list or dict whose one-line form fits in `width` columns stays on one
 * line, as mmcv's Config.pretty_text does (img_scale, mean/std, a pipeline step): a recipe prints in
 * tens of lines instead of hundreds. The output is still valid JSON.
 */
export function prettyJson(v: unknown, indent = 0, prefix = 0, width = 100): string {
  const one = inlineJson(v);
  if (indent + prefix + one.length <= width || v === null || typeof v !== 'object') return one;
  const pad = ' '.repeat(indent + 2);
  if (Array.isArray(v)) return `[\n${v.map((x) => pad + prettyJson(x, indent + 2, 0, width)).join(',\n')}\n${' '.repeat(indent)}]`;
  const entries = Object.entries(v).filter(([, x]) => x !== undefined);
  if (!entries.length) return '{}';
  return `{\n${entries.map(([k, x]) => `${pad}${JSON.stringify(k)}: ${prettyJson(x, indent + 2, JSON.stringify(k).length + 2, width)}`).join(',\n')}\n${' '.repeat(indent)}}`;
}

/**
 * Validates an already-resolved config object (e.g. the `config` a checkpoint's metadata carries,
 * or one built in code) against `schema`. Throws ConfigError naming `source` and the key path.
 */
export function checkConfig(cfg: unknown, source = 'config', schema: Schema = rootSchema): Config {
  if (!isDict(cfg)) throw new ConfigError(`${source}: expected a config object`, '', source);
  const copy = structuredClone(cfg);
  validate(schema, copy, () => source);
  return copy as Config;
}
