// Browser file access (see platform/README.md): bytes come by fetch; there is no synchronous file
// system, so the sync calls (used by training, dataset and tool code) throw one clear line.
import { PlatformError } from '../errors';

function unavailable(name: string): (...args: unknown[]) => never {
  return (...args: unknown[]) => {
    const what = typeof args[0] === 'string' ? ` (${args[0]})` : '';
    throw new PlatformError(`${name}${what}: no file system in the browser; pass a URL, an ArrayBuffer or decoded pixels instead`);
  };
}

/** There are no local files in a browser: nothing exists. */
export const existsSync = (_path: unknown): boolean => false;
export const appendFileSync = unavailable('appendFileSync');
export const closeSync = unavailable('closeSync');
export const fsyncSync = unavailable('fsyncSync');
export const linkSync = unavailable('linkSync');
export const mkdirSync = unavailable('mkdirSync');
export const openSync = unavailable('openSync');
export const readFileSync = unavailable('readFileSync');
export const readdirSync = unavailable('readdirSync');
export const readlinkSync = unavailable('readlinkSync');
export const renameSync = unavailable('renameSync');
export const rmSync = unavailable('rmSync');
export const statSync = unavailable('statSync');
export const symlinkSync = unavailable('symlinkSync');
export const writeFileSync = unavailable('writeFileSync');
export const writeSync = unavailable('writeSync');

/** The bytes behind a URL (relative URLs resolve against the page). Throws naming the URL and HTTP status. */
export async function readBytes(src: string | URL): Promise<Uint8Array> {
  const res = await fetch(src);
  if (!res.ok) throw new PlatformError(`${String(src)}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}
