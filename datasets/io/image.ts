/**
 * Image decoding to RGB uint8 HWC, as mmcv 1.x `imread(flag='color')` with its default backend
 * (OpenCV 4.x `cv2.imread(IMREAD_COLOR)`, then the BGR->RGB order our pipeline keeps) returns pixels:
 * stored samples, no colour management.
 * - PNG: our own decoder of the stored samples (png_samples.ts), then OpenCV's libpng set-up
 *   (grfmt_png.cpp readData): 16-bit -> high byte (png_set_strip_16), alpha dropped without
 *   compositing (png_set_strip_alpha), palette -> its RGB entries, 1/2/4-bit gray scaled to 8 bits
 *   (png_set_expand_gray_1_2_4_to_8), gray replicated to three channels. ICC/gAMA chunks ignored.
 * - JPEG (and other formats libvips reads) through sharp, kept because it is ~4x faster than a
 *   pure-JS decoder (docs/datasets.md) and can be told not to colour-manage: `keepIccProfile()`
 *   leaves embedded ICC profiles unapplied (OpenCV ignores them), and CMYK JPEGs are read as CMYK
 *   samples (`pipelineColourspace('cmyk')`) and converted with OpenCV's plain formula
 *   out = k - ((255 - c) * k >> 8) on the stored (Adobe-inverted) samples. EXIF orientation is
 *   applied, as OpenCV does for IMREAD_COLOR.
 * - Label maps: `decodeLabelMap` (label_map.ts) reads stored label values, as mmseg does.
 */
import { readFileSync, existsSync } from 'node:fs';
import sharp from 'sharp';
import { PNG } from 'pngjs';
import { DatasetError } from '../errors';
import { decodePngSamples, isPng } from '../../fileio/png_samples';
import { decodeLabelPng, type LabelMap } from '../../fileio/label_map';

export type { LabelMap } from '../../fileio/label_map';

export interface RgbImage {
  data: Uint8Array; // HWC, RGB
  height: number;
  width: number;
}

function readBytes(file: string): Buffer {
  if (!existsSync(file)) throw new DatasetError(file, 'image file not found');
  return readFileSync(file);
}

/** PNG bytes -> RGB as OpenCV's IMREAD_COLOR gives them (see the module comment). */
export function decodePng(buf: Buffer, file = '<buffer>'): RgbImage {
  let png;
  try {
    png = decodePngSamples(buf);
  } catch (e) {
    throw new DatasetError(file, `corrupt PNG (${(e as Error).message})`);
  }
  const { width, height, channels, bitDepth, colorType, data: s } = png;
  const n = width * height;
  const out = new Uint8Array(n * 3);
  const to8 = (v: number) => (bitDepth === 16 ? v >> 8 : bitDepth < 8 ? Math.floor((v * 255) / ((1 << bitDepth) - 1)) : v);
  if (colorType === 3) {
    const pal = png.palette!;
    const entries = pal.length / 3;
    for (let i = 0; i < n; i++) {
      const k = s[i];
      // libpng fills indices beyond the palette with black (png_do_expand_palette).
      if (k < entries) out.set(pal.subarray(k * 3, k * 3 + 3), i * 3);
    }
  } else if (colorType === 0 || colorType === 4) {
    for (let i = 0; i < n; i++) out.fill(to8(s[i * channels]), i * 3, i * 3 + 3);
  } else {
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = to8(s[i * channels + c]);
  }
  return { data: out, height, width };
}

/** True when a JPEG carries Adobe's APP14 marker (libjpeg: saw_Adobe_marker; CMYK samples stored inverted). */
function hasAdobeMarker(buf: Uint8Array): boolean {
  if (buf[0] !== 0xff || buf[1] !== 0xd8) return false;
  let p = 2;
  while (p + 4 <= buf.length && buf[p] === 0xff) {
    const m = buf[p + 1];
    if (m === 0xda || m === 0xd9) break;
    const len = (buf[p + 2] << 8) | buf[p + 3];
    if (m === 0xee && len >= 7 && String.fromCharCode(...buf.subarray(p + 4, p + 9)) === 'Adobe') return true;
    p += 2 + len;
  }
  return false;
}

/**
 * CMYK samples (as libvips hands them: Adobe-inverted files already un-inverted) -> RGB with OpenCV's
 * icvCvt_CMYK2BGR formula on the samples libjpeg returns (the stored, for Adobe files inverted, ones).
 */
function cmykToRgb(cmyk: Uint8Array, n: number, vipsInverted: boolean): Uint8Array {
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const st = (c: number) => (vipsInverted ? 255 - cmyk[i * 4 + c] : cmyk[i * 4 + c]);
    const k = st(3);
    for (let c = 0; c < 3; c++) out[i * 3 + c] = k - (((255 - st(c)) * k) >> 8);
  }
  return out;
}

/** Decodes any supported image file to RGB as mmcv.imread(flag='color') (OpenCV) does. Errors name the file. */
export async function decodeImage(file: string): Promise<RgbImage> {
  const buf = readBytes(file);
  if (isPng(buf)) return decodePng(buf, file);
  try {
    const meta = await sharp(buf, { failOn: 'error' }).metadata();
    // keepIccProfile: do not transform by an embedded profile (OpenCV ignores profiles).
    const base = sharp(buf, { failOn: 'error' }).rotate().keepIccProfile();
    if (meta.space === 'cmyk') {
      const { data, info } = await base.pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true });
      if (info.channels !== 4) throw new Error(`unexpected ${info.channels} channels for CMYK`);
      // libvips inverts CMYK samples of files with Adobe's marker (as Photoshop/PIL write them).
      const rgb = cmykToRgb(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width * info.height, hasAdobeMarker(buf));
      return { data: rgb, height: info.height, width: info.width };
    }
    const { data, info } = await base.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const src = new Uint8Array(data.buffer, data.byteOffset, data.length);
    if (info.channels === 3) return { data: src, height: info.height, width: info.width };
    if (info.channels === 1) {
      const out = new Uint8Array(src.length * 3);
      for (let i = 0; i < src.length; i++) out.fill(src[i], i * 3, i * 3 + 3);
      return { data: out, height: info.height, width: info.width };
    }
    throw new Error(`unexpected ${info.channels} channels`);
  } catch (e) {
    throw new DatasetError(file, `corrupt or unsupported image (${(e as Error).message})`);
  }
}

/** Reads a PNG label map as stored label values (label_map.ts; mmseg's 'unchanged' PIL read). */
export function decodeLabelMap(file: string): LabelMap {
  const buf = readBytes(file);
  try {
    return decodeLabelPng(buf);
  } catch (e) {
    throw new DatasetError(file, (e as Error).message);
  }
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
