// Raw DEFLATE in a browser (see platform/README.md): DecompressionStream is asynchronous only.
import { PlatformError } from '../errors';

export function inflateRawSync(_data: Uint8Array): Uint8Array {
  throw new PlatformError('deflate-compressed zip entries cannot be inflated synchronously in the browser; save the checkpoint as safetensors (or an uncompressed torch.save zip)');
}

export function inflateSync(_data: Uint8Array): Uint8Array {
  throw new PlatformError('PNG label maps are decoded in Node only (no synchronous inflate in the browser); decode images with createImageBitmap');
}

/** Inflates raw DEFLATE bytes with DecompressionStream('deflate-raw'). */
export async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
