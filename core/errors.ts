// Typed errors for input the user controls (config files, flags, checkpoints, backends).
// Tools print `message` alone for these (no stack trace); anything else is a bug and keeps its stack.

/** Base class: an error caused by user input, whose message is a complete, one-line explanation. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A config file that is missing, fails to load, or fails validation. */
export class ConfigError extends UserError {
  constructor(
    message: string,
    /** Dotted key path of the offending field ('' for the whole config). */
    readonly keyPath = '',
    /** The config file (or '--cfg-options') that set the field. */
    readonly file = '',
  ) {
    super(message);
  }
}

/** A checkpoint that cannot be read or does not match the model. */
export class CheckpointError extends UserError {}

/** A backend that was asked for but cannot be used here. */
export class BackendError extends UserError {}

/** Training stopped on purpose (NaN/Inf loss, tensor leak); a last-good checkpoint may have been written. */
export class TrainingStopped extends UserError {
  constructor(
    message: string,
    readonly checkpoint: string | null = null,
  ) {
    super(message);
  }
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The candidates closest to `name` (at most `k`, nearest first); used in error messages. */
export function nearestNames(name: string, candidates: Iterable<string>, k = 3): string[] {
  return [...candidates]
    .map((c) => ({ c, d: editDistance(name.toLowerCase(), c.toLowerCase()) }))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, k)
    .map((x) => x.c);
}
