// Image decoding in browsers (see platform/README.md): createImageBitmap decodes, an OffscreenCanvas
// gives the pixels. No colour-space conversion and no alpha premultiplication, so a PNG gives the
// same RGB values as pngjs in Node.
import { PlatformError } from '../errors';
import { readBytes } from './fs';

/** RGB uint8, HWC (as datasets/io/image.ts). */
export interface RgbImage {
  data: Uint8Array;
  height: number;
  width: number;
}

export interface LabelMap {
  data: Uint8Array;
  height: number;
  width: number;
}

type PixelSource = ImageBitmap | ImageData | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | VideoFrame;

/** RGB pixels of anything a canvas can draw (or of an ImageData). Alpha is dropped. */
export function pixelsOf(source: PixelSource): RgbImage {
  let rgba: ImageData;
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) rgba = source;
  else {
    const s = source as ImageBitmap;
    const w = (source as HTMLImageElement).naturalWidth || s.width;
    const h = (source as HTMLImageElement).naturalHeight || s.height;
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' });
    if (!ctx) throw new PlatformError('OffscreenCanvas 2d context unavailable');
    ctx.drawImage(source as CanvasImageSource, 0, 0);
    rgba = ctx.getImageData(0, 0, w, h);
  }
  const { width, height } = rgba;
  const out = new Uint8Array(width * height * 3);
  const src = rgba.data;
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    out[i * 3] = src[j];
    out[i * 3 + 1] = src[j + 1];
    out[i * 3 + 2] = src[j + 2];
  }
  return { data: out, height, width };
}

/** Decodes encoded image bytes (any format the browser reads), EXIF orientation applied. */
export async function decodeImageBytes(bytes: Uint8Array, source = '<bytes>'): Promise<RgbImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as BlobPart]), {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
      imageOrientation: 'from-image',
    });
  } catch (e) {
    throw new PlatformError(`${source}: corrupt or unsupported image (${(e as Error).message})`);
  }
  try {
    return pixelsOf(bitmap);
  } finally {
    bitmap.close();
  }
}

/** Decodes the image at a URL (relative URLs resolve against the page). */
export async function decodeImage(url: string): Promise<RgbImage> {
  return decodeImageBytes(await readBytes(url), url);
}

export function decodeLabelMap(file: string): LabelMap {
  throw new PlatformError(`${file}: label maps (raw palette indices) are decoded in Node only`);
}
