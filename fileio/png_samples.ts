/**
 * PNG decoding to the stored samples, written from the PNG specification (ISO/IEC 15948): chunks,
 * zlib inflate of the joined IDAT data, the five scanline filters, Adam7 de-interlacing and the
 * unpacking of 1/2/4/8/16-bit samples. No gamma, no colour management, no rescaling: a palette
 * image gives its indices, a 1-bit image gives 0/1, a 16-bit image its 16-bit values. Callers turn
 * the samples into what their reference returns (label maps: `readLabelMap`; images: `pngToRgb`).
 */
import { inflateSync } from '#platform/zlib';

/** Samples of a PNG as stored: `data` is row-major HWC with `channels` samples per pixel. */
export interface PngSamples {
  width: number;
  height: number;
  /** 1, 2, 4, 8 or 16. */
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  colorType: number;
  /** Samples per pixel: 1 (gray, palette), 2 (gray+alpha), 3 (RGB), 4 (RGBA). */
  channels: number;
  data: Uint16Array;
  /** PLTE entries as RGB triplets (palette images; null when absent). */
  palette: Uint8Array | null;
  interlaced: boolean;
}

const SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
// Adam7 passes: x start, y start, x step, y step.
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** True when the bytes start with the PNG signature. */
export function isPng(buf: Uint8Array): boolean {
  return buf.length >= 8 && SIG.every((b, i) => buf[i] === b);
}

/** Decodes the stored samples. Throws Error with a one-line reason for anything malformed. */
export function decodePngSamples(buf: Uint8Array): PngSamples {
  if (!isPng(buf)) throw new Error('not a PNG file');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 8;
  let width = 0;
  let height = 0;
  let bitDepth = 0;
  let colorType = -1;
  let interlaced = false;
  let palette: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  while (off + 8 <= buf.length) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(buf[off + 4], buf[off + 5], buf[off + 6], buf[off + 7]);
    const body = buf.subarray(off + 8, off + 8 + len);
    if (body.length !== len) throw new Error(`truncated ${type} chunk`);
    if (type === 'IHDR') {
      width = view.getUint32(off + 8);
      height = view.getUint32(off + 12);
      bitDepth = buf[off + 16];
      colorType = buf[off + 17];
      interlaced = buf[off + 20] === 1;
    } else if (type === 'PLTE') palette = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  if (colorType < 0) throw new Error('no IHDR chunk');
  if (!(colorType in CHANNELS) || !DEPTHS[colorType].includes(bitDepth)) throw new Error(`invalid colour type ${colorType} with bit depth ${bitDepth}`);
  if (!width || !height) throw new Error(`invalid size ${width}x${height}`);
  if (!idat.length) throw new Error('no IDAT chunk');
  if (colorType === 3 && !palette) throw new Error('palette PNG without a PLTE chunk');
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (e) {
    throw new Error(`corrupt image data (${(e as Error).message})`);
  }
  const channels = CHANNELS[colorType];
  const data = new Uint16Array(width * height * channels);
  const passes = interlaced ? ADAM7 : [[0, 0, 1, 1]];
  let pos = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((width - x0) / dx);
    const ph = Math.ceil((height - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    const stride = Math.ceil((pw * channels * bitDepth) / 8);
    const bpp = Math.max(1, (channels * bitDepth) >> 3);
    let prev = new Uint8Array(stride);
    for (let r = 0; r < ph; r++) {
      if (pos + 1 + stride > raw.length) throw new Error('image data shorter than the image');
      const filter = raw[pos];
      const line = raw.slice(pos + 1, pos + 1 + stride);
      pos += 1 + stride;
      unfilter(filter, line, prev, bpp);
      unpackRow(line, data, (y0 + r * dy) * width, x0, dx, pw, channels, bitDepth);
      prev = line;
    }
  }
  return { width, height, bitDepth, colorType, channels, data, palette, interlaced };
}

function unfilter(filter: number, line: Uint8Array, prev: Uint8Array, bpp: number): void {
  const n = line.length;
  switch (filter) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) line[i] = (line[i] + line[i - bpp]) & 255;
      return;
    case 2:
      for (let i = 0; i < n; i++) line[i] = (line[i] + prev[i]) & 255;
      return;
    case 3:
      for (let i = 0; i < n; i++) line[i] = (line[i] + (((i >= bpp ? line[i - bpp] : 0) + prev[i]) >> 1)) & 255;
      return;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? line[i - bpp] : 0;
        const b = prev[i];
        const c = i >= bpp ? prev[i - bpp] : 0;
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        line[i] = (line[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
      }
      return;
    default:
      throw new Error(`unknown scanline filter ${filter}`);
  }
}

function unpackRow(line: Uint8Array, out: Uint16Array, rowStart: number, x0: number, dx: number, pw: number, ch: number, depth: number): void {
  if (depth === 8) {
    for (let i = 0; i < pw; i++) for (let c = 0; c < ch; c++) out[(rowStart + x0 + i * dx) * ch + c] = line[i * ch + c];
  } else if (depth === 16) {
    for (let i = 0; i < pw; i++)
      for (let c = 0; c < ch; c++) {
        const k = (i * ch + c) * 2;
        out[(rowStart + x0 + i * dx) * ch + c] = (line[k] << 8) | line[k + 1];
      }
  } else {
    // 1/2/4-bit: one channel (gray or palette), most significant bits first.
    const mask = (1 << depth) - 1;
    for (let i = 0; i < pw; i++) {
      const bit = i * depth;
      out[rowStart + x0 + i * dx] = (line[bit >> 3] >> (8 - depth - (bit & 7))) & mask;
    }
  }
}
