// A small PNG writer for tests: any colour type and bit depth, stored samples given directly
// (row-major HWC; palette images take indices), filter 0, optional Adam7 interlacing.
import { deflateSync } from 'node:zlib';
import { crc32 } from './torch_zip';

function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

const CH: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

export interface PngSpec {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  samples: ArrayLike<number>;
  /** RGB triplets (palette images). */
  palette?: number[];
  interlace?: boolean;
}

/** Encodes the stored samples as a PNG file. */
export function encodePng(s: PngSpec): Buffer {
  const ch = CH[s.colorType];
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(s.width, 0);
  ihdr.writeUInt32BE(s.height, 4);
  ihdr[8] = s.bitDepth;
  ihdr[9] = s.colorType;
  ihdr[12] = s.interlace ? 1 : 0;
  const rows: number[] = [];
  const passes = s.interlace ? ADAM7 : [[0, 0, 1, 1]];
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((s.width - x0) / dx);
    const ph = Math.ceil((s.height - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    for (let r = 0; r < ph; r++) {
      const y = y0 + r * dy;
      const line = new Uint8Array(Math.ceil((pw * ch * s.bitDepth) / 8));
      for (let i = 0; i < pw; i++) {
        const x = x0 + i * dx;
        for (let c = 0; c < ch; c++) {
          const v = s.samples[(y * s.width + x) * ch + c];
          const k = i * ch + c;
          if (s.bitDepth === 16) {
            line[2 * k] = v >> 8;
            line[2 * k + 1] = v & 255;
          } else if (s.bitDepth === 8) line[k] = v;
          else line[(k * s.bitDepth) >> 3] |= v << (8 - s.bitDepth - ((k * s.bitDepth) & 7));
        }
      }
      rows.push(0, ...line);
    }
  }
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (s.palette) parts.push(chunk('PLTE', Uint8Array.from(s.palette)));
  parts.push(chunk('IDAT', deflateSync(Uint8Array.from(rows))), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}
