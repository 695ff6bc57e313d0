// Image and label-map decoding against mmcv.imread(flag='color') (OpenCV IMREAD_COLOR) and mmseg's
// label read (PIL 'unchanged' -> uint8). Inputs are made here; expected values follow OpenCV's libpng
// set-up (grfmt_png.cpp: strip_16 = high byte, strip_alpha, palette_to_rgb, expand_gray_1_2_4_to_8,
// gray_to_rgb), its CMYK formula out = k - ((255 - c) * k >> 8) and "no colour management".
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, decodeLabelMap, decodePng } from '../datasets/io/image';
import { decodePngSamples } from '../fileio/png_samples';
import { readLabelPng } from '../evaluation';
import { encodePng } from './helpers/png_encode';

const dir = mkdtempSync(join(tmpdir(), 'decode-'));
const file = (name: string, bytes: Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};
const W = 5;
const H = 3;
const ramp = (n: number, mod: number, mul = 1) => Array.from({ length: n }, (_, i) => ((i * mul + 3) % mod));

describe('PNG as OpenCV IMREAD_COLOR', () => {
  it('8-bit gray is replicated to RGB', () => {
    const g = ramp(W * H, 256, 37);
    const img = decodePng(encodePng({ width: W, height: H, colorType: 0, bitDepth: 8, samples: g }));
    expect(Array.from(img.data)).toEqual(g.flatMap((v) => [v, v, v]));
  });
  for (const depth of [1, 2, 4] as const) {
    it(`${depth}-bit gray is scaled to 8 bits (v * 255 / (2^${depth} - 1)), interlaced too`, () => {
      const g = ramp(W * H, 1 << depth);
      for (const interlace of [false, true]) {
        const img = decodePng(encodePng({ width: W, height: H, colorType: 0, bitDepth: depth, samples: g, interlace }));
        expect(Array.from(img.data)).toEqual(g.flatMap((v) => Array(3).fill((v * 255) / ((1 << depth) - 1))));
      }
    });
  }
  it('16-bit gray and RGB keep the high byte (png_set_strip_16)', () => {
    const g = [0, 255, 256, 511, 0x80ff, 0xffff];
    expect(Array.from(decodePng(encodePng({ width: 6, height: 1, colorType: 0, bitDepth: 16, samples: g })).data)).toEqual(g.flatMap((v) => [v >> 8, v >> 8, v >> 8]));
    const rgb = [0x1234, 0xabcd, 0x00ff, 0xff00, 0x7f80, 0x0101];
    expect(Array.from(decodePng(encodePng({ width: 2, height: 1, colorType: 2, bitDepth: 16, samples: rgb })).data)).toEqual(rgb.map((v) => v >> 8));
  });
  it('alpha is dropped without compositing (gray+alpha, RGBA)', () => {
    const ga = [10, 0, 200, 128];
    expect(Array.from(decodePng(encodePng({ width: 2, height: 1, colorType: 4, bitDepth: 8, samples: ga })).data)).toEqual([10, 10, 10, 200, 200, 200]);
    const rgba = [1, 2, 3, 0, 250, 251, 252, 7];
    expect(Array.from(decodePng(encodePng({ width: 2, height: 1, colorType: 6, bitDepth: 8, samples: rgba })).data)).toEqual([1, 2, 3, 250, 251, 252]);
  });
  it('palette indices (1..8-bit) give their palette colours', () => {
    const pal = [0, 0, 0, 10, 20, 30, 200, 100, 50, 7, 8, 9];
    for (const depth of [2, 4, 8] as const) {
      const idx = ramp(W * H, 4);
      const img = decodePng(encodePng({ width: W, height: H, colorType: 3, bitDepth: depth, samples: idx, palette: pal }));
      expect(Array.from(img.data)).toEqual(idx.flatMap((k) => pal.slice(k * 3, k * 3 + 3)));
    }
  });
  it('decodeImage routes PNG files through the same rules', async () => {
    const p = file('g16.png', encodePng({ width: 2, height: 1, colorType: 0, bitDepth: 16, samples: [0x0100, 0xfe00] }));
    expect(Array.from((await decodeImage(p)).data)).toEqual([1, 1, 1, 254, 254, 254]);
  });
});

describe('JPEG as OpenCV IMREAD_COLOR (no colour management)', () => {
  const raw = Buffer.from(ramp(16 * 8 * 3, 256, 37));
  const rgbJpeg = () => sharp(raw, { raw: { width: 16, height: 8, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();

  it('Adobe CMYK: the plain formula on the stored samples', async () => {
    // test/fixtures/images/README.md: stored left (200,255,255,255), right (255,120,60,200).
    const img = await decodeImage(join(__dirname, 'fixtures', 'images', 'cmyk_adobe_16x8.jpg'));
    const px = (x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
    const f = (c: number, k: number) => k - (((255 - c) * k) >> 8);
    expect(px(3, 3)).toEqual([f(200, 255), f(255, 255), f(255, 255)]);
    expect(px(12, 4)).toEqual([f(255, 200), f(120, 200), f(60, 200)]);
    expect(px(12, 4)).toEqual([200, 95, 48]);
  });

  it('an embedded ICC profile (Display P3) is not applied', async () => {
    const plain = await rgbJpeg();
    // Take the ICC APP2 segment sharp writes for P3 and insert it into the plain file: same samples, now tagged.
    const tagged = await sharp(raw, { raw: { width: 16, height: 8, channels: 3 } }).withIccProfile('p3').jpeg().toBuffer();
    let p = 2;
    let app2: Buffer | null = null;
    while (p < tagged.length && tagged[p] === 0xff && tagged[p + 1] !== 0xda) {
      const len = tagged.readUInt16BE(p + 2);
      if (tagged[p + 1] === 0xe2) app2 = tagged.subarray(p, p + 2 + len);
      p += 2 + len;
    }
    expect(app2).not.toBeNull();
    const withIcc = Buffer.concat([plain.subarray(0, 2), app2!, plain.subarray(2)]);
    expect((await sharp(withIcc).metadata()).hasProfile).toBe(true);
    const a = await decodeImage(file('plain.jpg', plain));
    const b = await decodeImage(file('p3.jpg', withIcc));
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
  });

  it('gray JPEG is replicated; progressive decodes as baseline; EXIF orientation applied', async () => {
    const gray = await sharp(raw, { raw: { width: 16, height: 8, channels: 3 } }).toColourspace('b-w').jpeg({ quality: 95 }).toBuffer();
    const samples = await sharp(gray).pipelineColourspace('b-w').toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    const g = await decodeImage(file('gray.jpg', gray));
    expect(samples.info.channels).toBe(1);
    expect(Array.from(g.data)).toEqual(Array.from(samples.data).flatMap((v) => [v, v, v]));

    const base = await decodeImage(file('base.jpg', await rgbJpeg()));
    const prog = await sharp(raw, { raw: { width: 16, height: 8, channels: 3 } }).jpeg({ quality: 95, progressive: true }).toBuffer();
    expect(Array.from((await decodeImage(file('prog.jpg', prog))).data)).toEqual(Array.from(base.data));

    const rotated = await sharp(await rgbJpeg()).withMetadata({ orientation: 6 }).toBuffer();
    const r = await decodeImage(file('rot.jpg', rotated));
    expect([r.height, r.width]).toEqual([16, 8]);
  });
});

describe('label maps: stored values, one reader for the loader and seg_eval', () => {
  const read = (name: string, bytes: Buffer) => {
    const p = file(name, bytes);
    const a = decodeLabelMap(p);
    const b = readLabelPng(p);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    return Array.from(a.data);
  };
  it('palette PNG gives the index even where palette colours repeat', () => {
    const pal = [...Array(256)].flatMap((_, i) => (i === 1 ? [128, 0, 0] : [0, 0, 0]));
    expect(read('pal.png', encodePng({ width: 3, height: 1, colorType: 3, bitDepth: 8, samples: [1, 255, 0], palette: pal }))).toEqual([1, 255, 0]);
  });
  it('1-bit gray gives 0/1 (PIL mode 1), 2/4-bit gray the stored value', () => {
    expect(read('b1.png', encodePng({ width: 3, height: 1, colorType: 0, bitDepth: 1, samples: [1, 1, 0] }))).toEqual([1, 1, 0]);
    expect(read('b4.png', encodePng({ width: 3, height: 1, colorType: 0, bitDepth: 4, samples: [15, 2, 0] }))).toEqual([15, 2, 0]);
  });
  it('16-bit gray gives the stored value; above 255 is an error naming file and value', () => {
    expect(read('g16.png', encodePng({ width: 3, height: 1, colorType: 0, bitDepth: 16, samples: [1, 255, 2] }))).toEqual([1, 255, 2]);
    const p = file('g16big.png', encodePng({ width: 2, height: 1, colorType: 0, bitDepth: 16, samples: [3, 300] }));
    expect(() => decodeLabelMap(p)).toThrow(/g16big\.png: 16-bit label value 300 at pixel \(x=1, y=0\)/);
    expect(() => readLabelPng(p)).toThrow(/g16big\.png: 16-bit label value 300/);
  });
  it('RGB label PNGs are refused naming the file', () => {
    const p = file('rgb.png', encodePng({ width: 1, height: 1, colorType: 2, bitDepth: 8, samples: [1, 2, 3] }));
    expect(() => decodeLabelMap(p)).toThrow(/rgb\.png: label map must be a gray or palette PNG/);
  });
  it('the sample decoder returns 8-bit RGB samples as stored (interlaced and not)', () => {
    const s = ramp(7 * 5 * 3, 256, 11);
    for (const interlace of [false, true]) {
      const d = decodePngSamples(encodePng({ width: 7, height: 5, colorType: 2, bitDepth: 8, samples: s, interlace }));
      expect(Array.from(d.data)).toEqual(s);
    }
  });
});
