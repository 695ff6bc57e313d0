/**
 * Image decoding to RGB uint8 HWC.
 * - JPEG (and anything else libvips reads) via sharp: measured ~4x faster than the
 *   pure-JS jpeg-js on 640x480 (see docs/datasets.md). EXIF orientation is applied,
 *   as mmcv.imread(flag='color') does (OpenCV applies it unless IGNORE_ORIENTATION).
 * - PNG via pngjs: 8-bit gray, RGB, RGBA (alpha dropped), palette -> RGB.
 * - Label maps: `decodeLabelMap` reads raw indices (gray value, or palette index),
 *   like mmseg's imfrombytes(flag='unchanged', backend='pillow').
 */
import { readFileSync, existsSync } from 'node:fs';
import sharp from 'sharp';
import { PNG } from 'pngjs';
import { DatasetError } from '../errors';

export interface RgbImage {
  data: Uint8Array; // HWC, RGB
  height: number;
  width: number;
}

export interface LabelMap {
  data: Uint8Array; // HW
  height: number;
  width: number;
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47];

function isPng(buf: Uint8Array): boolean {
  return buf.length > 8 && PNG_SIG.every((b, i) => buf[i] === b);
}

function readBytes(file: string): Buffer {
  if (!existsSync(file)) throw new DatasetError(file, 'image file not found');
  return readFileSync(file);
}

interface PngHeader {
  colorType: number;
  bitDepth: number;
  palette: Uint8Array | null; // RGB triplets
}

/** Reads IHDR and PLTE (pngjs converts palettes to colours; label maps need the indices). */
function pngHeader(buf: Buffer): PngHeader {
  let off = 8;
  let colorType = -1;
  let bitDepth = 0;
  let palette: Uint8Array | null = null;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    if (type === 'IHDR') {
      bitDepth = buf[off + 16];
      colorType = buf[off + 17];
    } else if (type === 'PLTE') {
      palette = new Uint8Array(buf.subarray(off + 8, off + 8 + len));
    } else if (type === 'IDAT' || type === 'IEND') break;
    off += 12 + len;
  }
  return { colorType, bitDepth, palette };
}

function decodePngRgba(buf: Buffer, file: string): PNG {
  try {
    return PNG.sync.read(buf);
  } catch (e) {
    throw new DatasetError(file, `corrupt PNG (${(e as Error).message})`);
  }
}

export function decodePng(buf: Buffer, file = '<buffer>'): RgbImage {
  const png = decodePngRgba(buf, file);
  const { width, height } = png;
  const src = png.data;
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    out[i * 3] = src[j];
    out[i * 3 + 1] = src[j + 1];
    out[i * 3 + 2] = src[j + 2];
  }
  return { data: out, height, width };
}

/** Decodes any supported image file to RGB. Errors name the file. */
export async function decodeImage(file: string): Promise<RgbImage> {
  const buf = readBytes(file);
  if (isPng(buf)) return decodePng(buf, file);
  try {
    const { data, info } = await sharp(buf, { failOn: 'error' })
      .rotate() // EXIF orientation, as mmcv's default 'color' flag
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width };
  } catch (e) {
    // libvips appends its own warnings on further lines: keep the error one line.
    const detail = (e as Error).message.split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
    throw new DatasetError(file, `corrupt or unsupported image (${detail})`);
  }
}

/** Reads a PNG label map as raw 8-bit indices (gray value or palette index). */
export function decodeLabelMap(file: string): LabelMap {
  const buf = readBytes(file);
  if (!isPng(buf)) throw new DatasetError(file, 'label map must be a PNG');
  const hdr = pngHeader(buf);
  if (hdr.bitDepth > 8) throw new DatasetError(file, `label map must be 8-bit (found ${hdr.bitDepth}-bit)`);
  if (hdr.colorType !== 0 && hdr.colorType !== 3)
    throw new DatasetError(file, `label map must be 8-bit gray or palette PNG (found colour type ${hdr.colorType})`);
  const png = decodePngRgba(buf, file);
  const n = png.width * png.height;
  const out = new Uint8Array(n);
  const src = png.data;
  if (hdr.colorType === 0) {
    for (let i = 0; i < n; i++) out[i] = src[i * 4];
  } else {
    // Map colours back to the first palette index having that colour.
    const pal = hdr.palette ?? new Uint8Array(0);
    const lut = new Map<number, number>();
    for (let k = pal.length / 3 - 1; k >= 0; k--) lut.set((pal[k * 3] << 16) | (pal[k * 3 + 1] << 8) | pal[k * 3 + 2], k);
    for (let i = 0; i < n; i++) {
      const key = (src[i * 4] << 16) | (src[i * 4 + 1] << 8) | src[i * 4 + 2];
      const idx = lut.get(key);
      if (idx === undefined) throw new DatasetError(file, 'palette PNG pixel has no palette entry');
      out[i] = idx;
    }
  }
  return { data: out, height: png.height, width: png.width };
}

/** Encodes RGB uint8 HWC to JPEG (quality 90 by default). */
export async function encodeJpeg(img: RgbImage, quality = 90): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .jpeg({ quality })
    .toBuffer();
}

/** Encodes RGB uint8 HWC to PNG. */
export function encodePngRgb(img: RgbImage): Buffer {
  const png = new PNG({ width: img.width, height: img.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

/** Encodes an 8-bit single-channel label map as a gray PNG. */
export function encodeLabelPng(map: LabelMap): Buffer {
  const png = new PNG({ width: map.width, height: map.height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.from(map.data.buffer, map.data.byteOffset, map.data.length);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}
