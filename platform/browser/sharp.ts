// No libvips in browsers (see platform/README.md): readers that need sharp run in Node; the
// inference API decodes browser images with createImageBitmap (platform/browser/image.ts).
import { PlatformError } from '../errors';

export default function sharp(..._args: unknown[]): never {
  throw new PlatformError('sharp (libvips) is not available in the browser; decode images with createImageBitmap or pass RGB pixels');
}
