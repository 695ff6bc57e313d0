// Checkpoint files of a work dir: the `latest` link and finding the checkpoint to resume from.
// Reading and writing the weights themselves is checkpoint/'s job.
import { existsSync, linkSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from '#platform/fs';
import { basename, dirname, join, resolve } from '#platform/path';

/** Points `linkPath` at `target` atomically: a relative symlink when possible, else a hard link. */
export function updateLink(linkPath: string, target: string, kind: 'symlink' | 'hardlink' = 'symlink'): void {
  const tmp = join(dirname(linkPath), `.${basename(linkPath)}.tmp-${process.pid}`);
  rmSync(tmp, { force: true });
  if (kind === 'symlink') {
    try {
      symlinkSync(basename(target), tmp);
    } catch {
      linkSync(target, tmp);
    }
  } else linkSync(target, tmp);
  renameSync(tmp, linkPath);
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
