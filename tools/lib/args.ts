// Command-line argument errors as users meet them: an unknown flag gets the nearest known flag as a
// hint (and mmdetection/mmsegmentation spellings that mean something else here get an explanation),
// a value out of range names the flag and the accepted range. One line, exit code 2.
import { editDistance, nearestNames, UserError } from '../../core/errors';

/**
 * Flags of mmdetection's / mmsegmentation's tools that have no one-to-one equivalent here, with what
 * to type instead (those that do, e.g. `--eval`, are accepted as aliases by the tools themselves).
 */
export const FOREIGN_FLAG_HINTS: Record<string, string> = {
  resume: 'use --resume-from <checkpoint> (or --auto-resume for the latest checkpoint of the work dir)',
  'gpu-ids': 'this suite runs on one device; choose it with --backend',
  gpus: 'this suite runs on one device; choose it with --backend',
  'gpu-id': 'this suite runs on one device; choose it with --backend',
  launcher: 'distributed launchers are not part of tools/train here',
  deterministic: 'runs are always deterministic for a given --seed and backend',
  options: 'use --cfg-options key.path=value',
  'eval-options': 'not supported; use --cfg-options to change evaluation settings',
  show: 'use --show-dir <folder> to draw predictions to files',
  'format-only': 'not supported by this tool',
};

/** The hint for one unknown argument name (without dashes); '' when there is none. */
export function unknownArgumentHint(name: string, known: readonly string[]): string {
  const foreign = FOREIGN_FLAG_HINTS[name];
  if (foreign) return `--${name}: ${foreign}`;
  if (/[/\\.]/.test(name) || !/^[a-z][\w-]*$/i.test(name)) return `'${name}' is an extra positional argument`;
  const flags = known.filter((k) => k.length > 1 && !/[A-Z]/.test(k) && k !== 'version');
  const [best] = nearestNames(name, flags, 1);
  if (!best) return '';
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const close = norm(best) === norm(name) || editDistance(name.toLowerCase(), best.toLowerCase()) <= Math.max(2, Math.floor(name.length / 3));
  return close ? `--${name}: did you mean --${best}?` : '';
}

/** yargs' message with hints for its "Unknown argument(s): a, b" form; other messages unchanged. */
export function withArgumentHints(msg: string, known: readonly string[]): string {
  const m = /^Unknown arguments?: (.+)$/.exec(msg);
  if (!m) return msg;
  const hints = m[1]
    .split(', ')
    .map((n) => unknownArgumentHint(n.replace(/^-+/, ''), known))
    .filter(Boolean);
  return hints.length ? `${msg}; ${hints.join('; ')}` : msg;
}

/**
 * A yargs `.fail()` handler printing one line `error: <message>[; hint] (see --help)` and exiting
 * with code 2. `knownFlags` is read when a failure happens (pass `() => Object.keys(parser.getOptions().key)`).
 */
export function failWithHints(knownFlags: () => readonly string[]): (msg: string | null, err: Error | null) => never {
  return (msg, err) => {
    const text = withArgumentHints(msg ?? err?.message ?? 'invalid arguments', knownFlags());
    process.stderr.write(`error: ${text} (see --help)\n`);
    process.exit(2);
  };
}

/** The flag names (and aliases) a yargs parser knows; `getOptions` is public yargs API missing from @types/yargs. */
export function knownFlags(parser: object): string[] {
  const p = parser as { getOptions?: () => { key?: Record<string, unknown> } };
  return Object.keys(p.getOptions?.().key ?? {});
}

/** Throws a one-line error unless `lo <= value <= hi` (inclusive); `flag` with dashes. */
export function checkRange(flag: string, value: number, lo: number, hi: number): void {
  if (!(value >= lo && value <= hi)) throw new RangeArgError(`${flag}: expected a number in [${lo}, ${hi}], got ${value}`);
}

/** Throws unless `value` is an integer >= `lo`. */
export function checkInt(flag: string, value: number, lo: number): void {
  if (!Number.isInteger(value) || value < lo) throw new RangeArgError(`${flag}: expected an integer >= ${lo}, got ${value}`);
}


/** A flag value outside what the tool accepts. */
export class RangeArgError extends UserError {}
