// Image decoding in Node (see platform/README.md): files through datasets/io/image (sharp, pngjs).
import sharp from 'sharp';
import { decodeImage, decodeLabelMap, decodePng, type LabelMap, type RgbImage } from '../../datasets/io/image';

export { decodeImage, decodeLabelMap };
export type { LabelMap, RgbImage };

const isPng = (b: Uint8Array): boolean => b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;

/**
 * Decodes encoded image bytes (PNG, JPEG, anything libvips reads) to RGB uint8 HWC, EXIF
 * orientation applied as mmcv.imread does. Throws an Error naming `source` on corrupt input.
 */
export async function decodeImageBytes(bytes: Uint8Array, source = '<bytes>'): Promise<RgbImage> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isPng(bytes)) return decodePng(buf, source);
  try {
    const { data, info } = await sharp(buf, { failOn: 'error' }).rotate().toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width };
  } catch (e) {
    throw new Error(`${source}: corrupt or unsupported image (${(e as Error).message})`);
  }
}

/** Decoded browser images (ImageBitmap, canvas, ...) do not exist in Node. */
export function pixelsOf(source: unknown): RgbImage {
  throw new Error(`cannot read pixels from ${Object.prototype.toString.call(source)} in Node; pass a file path, encoded bytes or {data, width, height} RGB`);
}
