// PNG codec placeholder for browsers (see platform/README.md): label-map PNGs (raw palette indices)
// are read by the evaluation tools in Node; the browser decodes images with createImageBitmap.
import { PlatformError } from '../errors';

export class PNG {
  static sync = {
    read(_buf: Uint8Array, _opts?: unknown): never {
      throw new PlatformError('PNG label maps are decoded in Node only (evaluation tools); in the browser decode images with createImageBitmap');
    },
    write(_png: unknown, _opts?: unknown): never {
      throw new PlatformError('PNG encoding is available in Node only; in the browser draw to a canvas');
    },
  };
}
