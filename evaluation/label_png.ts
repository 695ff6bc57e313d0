// Reads a PNG label map as raw label values: the gray value for grayscale PNGs and the palette
// index (not the colour) for palette PNGs, as mmsegmentation's 'unchanged' loading gives.

import { readFileSync } from '#platform/fs';
import { PNG } from '#platform/png';
import { EvalInputError } from './errors';

export interface LabelMap {
  width: number;
  height: number;
  /** Row-major label values. */
  data: Uint8Array | Uint16Array;
}

const SIG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function readLabelPng(path: string): LabelMap {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new EvalInputError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (buf.length < 33 || !buf.subarray(0, 8).equals(SIG)) throw new EvalInputError(`${path}: not a PNG file`);
  const colorType = buf[25];
  const bitDepth = buf[24];
  if (colorType !== 0 && colorType !== 3 && colorType !== 4) {
    throw new EvalInputError(`${path}: expected a grayscale or palette PNG label map, got colour type ${colorType}`);
  }
  // pngjs always expands palettes to colours; make palette entry i the gray colour (i,i,i) so the
  // decoded red channel is the index. CRCs no longer match, so their check is turned off.
  const src = colorType === 3 ? grayPalette(buf, path) : buf;
  let png: PNG;
  try {
    png = PNG.sync.read(src, { skipRescale: true, checkCRC: colorType !== 3 } as never);
  } catch (e) {
    throw new EvalInputError(`${path}: cannot decode PNG (${(e as Error).message})`);
  }
  const { width, height } = png;
  const n = width * height;
  const raw = png.data as unknown as ArrayLike<number>;
  const data = bitDepth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = raw[4 * i];
  return { width, height, data };
}

function grayPalette(buf: Buffer, path: string): Buffer {
  const out = Buffer.from(buf);
  let p = 8;
  while (p + 8 <= out.length) {
    const len = out.readUInt32BE(p);
    const type = out.toString('latin1', p + 4, p + 8);
    if (type === 'PLTE') {
      for (let i = 0; i < len / 3; i++) out.fill(i, p + 8 + 3 * i, p + 8 + 3 * i + 3);
      return out;
    }
    p += 12 + len;
  }
  throw new EvalInputError(`${path}: palette PNG without a PLTE chunk`);
}
