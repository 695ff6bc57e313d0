// File writes of a run (checkpoints, config.json, logs) through one place, so that every failure the
// environment causes (full disk, read-only or missing folder) becomes one user-facing line naming the
// file and what to do, and so tests can inject those failures (ENOSPC, EACCES) without a real full
// disk or a non-root user.
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from '#platform/fs';
import { UserError } from './errors';

/** A file-system failure caused by the environment or input (not by a bug). */
export class FileError extends UserError {
  constructor(
    message: string,
    readonly path: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export type FsOp = 'mkdir' | 'open' | 'write' | 'rename' | 'append';

/** Test hook: returns an error to throw instead of performing `op` on `path`, or null. */
export type FsFaultInjector = (op: FsOp, path: string) => NodeJS.ErrnoException | null;

let injector: FsFaultInjector | null = null;

/** Installs (or with null removes) a fault injector; for tests of error handling only. */
export function injectFsFault(f: FsFaultInjector | null): void {
  injector = f;
}

/** An errno-style error as node:fs throws it (for injectors). */
export function errnoError(code: string, op: string, path: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${op} '${path}'`) as NodeJS.ErrnoException;
  e.code = code;
  e.path = path;
  return e;
}

function check(op: FsOp, path: string): void {
  const e = injector?.(op, path);
  if (e) throw e;
}

const ADVICE: Record<string, string> = {
  ENOSPC: 'no space left on the device; free some space or choose a --work-dir on another disk',
  EDQUOT: 'disk quota exceeded; free some space or choose a --work-dir on another disk',
  EACCES: 'permission denied; choose a writable --work-dir or fix the folder permissions',
  EPERM: 'operation not permitted; choose a writable --work-dir or fix the folder permissions',
  EROFS: 'read-only file system; choose a --work-dir on a writable disk',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'the path is a folder, expected a file',
  ENOENT: 'no such file or folder',
  EEXIST: 'the path already exists',
  EMFILE: 'too many open files; raise the limit (ulimit -n) or use fewer workers',
};

/**
 * Converts a node:fs error into a FileError `<path>: cannot <doing> (<CODE>: <advice>)`; errors
 * without an errno code (bugs) are returned unchanged.
 */
export function fileError(e: unknown, path: string, doing: string): Error {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string') return e as Error;
  const advice = ADVICE[code] ?? (e as Error).message.split('\n')[0];
  return new FileError(`${path}: cannot ${doing} (${code}: ${advice})`, path, code);
}

/** mkdir -p; throws FileError. */
export function makeDir(path: string): void {
  try {
    check('mkdir', path);
    mkdirSync(path, { recursive: true });
  } catch (e) {
    throw fileError(e, path, 'create the folder');
  }
}

/** Appends text; throws FileError. */
export function appendText(path: string, text: string): void {
  try {
    check('append', path);
    appendFileSync(path, text);
  } catch (e) {
    throw fileError(e, path, 'append to the file');
  }
}

/**
 * Writes `bytes` to `path` atomically: a temp file `.<name>.tmp-<pid>` in the same folder, fsync,
 * rename. On any failure the temp file is removed and `path` is untouched; throws FileError naming
 * `path`.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array, tmp: string): void {
  let fd: number | null = null;
  try {
    check('open', tmp);
    fd = openSync(tmp, 'w');
    let off = 0;
    while (off < bytes.byteLength) {
      check('write', tmp);
      off += writeSync(fd, bytes, off, bytes.byteLength - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    check('rename', path);
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // already failing: the original error is the one to report
      }
    }
    rmSync(tmp, { force: true });
    throw fileError(e, path, 'write the file');
  }
}
