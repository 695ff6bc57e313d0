// Node file access for the library (see platform/README.md). The sync calls are node:fs itself.
import { readFile } from 'node:fs/promises';

export {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';

/**
 * The bytes of a local file or of an http(s)/data/blob URL (fetched).
 * Throws the underlying fs error (ENOENT, ...) or an Error naming the URL and HTTP status.
 */
export async function readBytes(src: string | URL): Promise<Uint8Array> {
  const s = String(src);
  if (/^(https?|data|blob):/.test(s)) {
    const res = await fetch(s);
    if (!res.ok) throw new Error(`${s}: HTTP ${res.status} ${res.statusText}`);
    return new Uint8Array(await res.arrayBuffer());
  }
  const buf = await readFile(s.startsWith('file:') ? new URL(s) : s);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
