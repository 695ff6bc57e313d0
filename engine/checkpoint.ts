// Checkpoint files of a work dir: the `latest` link and finding the checkpoint to resume from.
// Reading and writing the weights themselves is checkpoint/'s job.
import { existsSync, linkSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from '#platform/fs';
import { basename, dirname, join, resolve } from '#platform/path';
import { tempPathFor } from '../checkpoint/checkpoint';
import { fileError } from '../core/fsio';

/** Points `linkPath` at `target` atomically: a relative symlink when possible, else a hard link. Throws FileError. */
export function updateLink(linkPath: string, target: string, kind: 'symlink' | 'hardlink' = 'symlink'): void {
  const tmp = tempPathFor(linkPath);
  try {
    rmSync(tmp, { force: true });
    if (kind === 'symlink') {
      try {
        symlinkSync(basename(target), tmp);
      } catch {
        linkSync(target, tmp);
      }
    } else linkSync(target, tmp);
    renameSync(tmp, linkPath);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fileError(e, linkPath, `point it at ${basename(target)}`);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes `.<name>.tmp-<pid>` files in `workDir` left by processes that no longer run (a run killed
 * mid-write); files of live processes (another run writing now) are kept. Returns the removed paths.
 */
export function removeStaleTempFiles(workDir: string): string[] {
  if (!existsSync(workDir)) return [];
  const removed: string[] = [];
  for (const f of readdirSync(workDir)) {
    const m = /^\..+\.tmp-(\d+)$/.exec(f);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    const p = join(workDir, f);
    rmSync(p, { force: true });
    removed.push(p);
  }
  return removed;
}

/** The checkpoint to resume from in a work dir: `latest.safetensors`, else the newest iter_/epoch_ file. */
export function findLatestCheckpoint(workDir: string): string | null {
  const latest = join(workDir, 'latest.safetensors');
  if (existsSync(latest)) {
    try {
      return resolve(workDir, readlinkSync(latest));
    } catch {
      return latest;
    }
  }
  if (!existsSync(workDir)) return null;
  const found = readdirSync(workDir)
    .map((f) => /^(iter|epoch)_(\d+)\.safetensors$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(b[2]) - Number(a[2]));
  return found.length ? join(workDir, found[0][0]) : null;
}
