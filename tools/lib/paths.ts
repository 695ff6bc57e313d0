// Paths given on the command line: output folders checked before the work starts, and image
// arguments expanded (files, folders, shell-style globs) so a tool never fails half-way on them.
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../../core/errors';
import { fileError, makeDir } from '../../core/fsio';

/** Creates `dir` if needed and checks it is writable; throws FileError naming it and `flag`. */
export function checkWritableDir(dir: string, flag: string): void {
  makeDir(dir);
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw fileError(e, dir, `write to the folder of ${flag}`);
  }
}

/** Image file extensions read by datasets/io/image (sharp and the PNG decoder). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff', '.gif'];

const isImage = (f: string) => IMAGE_EXTENSIONS.some((e) => f.toLowerCase().endsWith(e));

/** A glob of one path segment (`*`, `?`, `[...]`) as a RegExp. */
function segmentRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const hasGlob = (s: string) => /[*?[]/.test(s);

/**
 * Expands image arguments: a file stays as is, a folder gives its image files (sorted, not
 * recursive), a glob in the last path segment (`data/val/*.jpg`, as a shell would when quoted)
 * gives the matching files. Throws UserError naming an argument that matches nothing.
 */
export function expandImageArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (hasGlob(basename(arg)) && !existsSync(arg)) {
      const dir = dirname(arg);
      if (hasGlob(dir)) throw new UserError(`${arg}: wildcards are supported in the file name only (not in folder names)`);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${arg}: folder ${dir} not found`);
      const re = segmentRegExp(basename(arg));
      const hits = readdirSync(dir)
        .filter((f) => re.test(f) && statSync(join(dir, f)).isFile())
        .sort()
        .map((f) => join(dir, f));
      if (!hits.length) throw new UserError(`${arg}: no file matches`);
      out.push(...hits);
    } else if (!existsSync(arg)) {
      throw new UserError(`${arg}: no such file or folder`);
    } else if (statSync(arg).isDirectory()) {
      const hits = readdirSync(arg)
        .filter((f) => isImage(f) && statSync(join(arg, f)).isFile())
        .sort()
        .map((f) => join(arg, f));
      if (!hits.length) throw new UserError(`${arg}: the folder holds no image files (${IMAGE_EXTENSIONS.join(', ')})`);
      out.push(...hits);
    } else out.push(arg);
  }
  return out;
}
