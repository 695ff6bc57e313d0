// Raw DEFLATE in Node (see platform/README.md).
import { inflateRawSync as nodeInflateRawSync, inflateSync as nodeInflateSync } from 'node:zlib';

/** Inflates raw DEFLATE bytes (zip method 8). Throws zlib's error on corrupt input. */
export function inflateRawSync(data: Uint8Array): Uint8Array {
  const out = nodeInflateRawSync(data);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Async form, same result (the browser offers only this one). */
export async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  return inflateRawSync(data);
}

/** Inflates zlib-wrapped DEFLATE bytes (PNG IDAT). Throws zlib's error on corrupt input. */
export function inflateSync(data: Uint8Array): Uint8Array {
  const out = nodeInflateSync(data);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
