// mIoU against the mmsegmentation-semantics fixtures (every case under test/fixtures/miou/cases).
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IoUAccumulator, evaluateLabelDirs, intersectAndUnion, miouTable, readLabelPng, totalAreaToMetrics } from '../evaluation';

const ROOT = join(__dirname, 'fixtures', 'miou');
const index = JSON.parse(readFileSync(join(ROOT, 'index.json'), 'utf8'));
const caseNames: string[] = index.cases.map((c: { case: string } | string) => (typeof c === 'string' ? c : c.case));
const nullNaN = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isNaN(v) ? null : v));

describe('miou fixtures', () => {
  it('index lists every case directory', () => {
    expect(caseNames.length).toBeGreaterThan(0);
    expect([...caseNames].sort()).toEqual(readdirSync(join(ROOT, 'cases')).sort());
  });

  for (const name of caseNames) {
    it(name, () => {
      const dir = join(ROOT, 'cases', name);
      const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
      const acc = new IoUAccumulator({ numClasses: exp.num_classes, ignoreIndex: exp.ignore_index, reduceZeroLabel: exp.reduce_zero_label });
      for (const im of exp.images) {
        const gt = readLabelPng(join(dir, im.gt));
        const pred = readLabelPng(join(dir, im.pred));
        expect([gt.height, gt.width]).toEqual([im.height, im.width]);
        const r = acc.add(pred.data, gt.data);
        expect([...r.areaIntersect]).toEqual(im.area_intersect);
        expect([...r.areaUnion]).toEqual(im.area_union);
        expect([...r.areaPredLabel]).toEqual(im.area_pred_label);
        expect([...r.areaLabel]).toEqual(im.area_label);
      }
      const m = acc.metrics();
      expect([...m.totals.areaIntersect]).toEqual(exp.total_area_intersect);
      expect([...m.totals.areaUnion]).toEqual(exp.total_area_union);
      expect([...m.totals.areaPredLabel]).toEqual(exp.total_area_pred_label);
      expect([...m.totals.areaLabel]).toEqual(exp.total_area_label);
      expect(m.aAcc).toBe(exp.aAcc);
      expect(nullNaN(m.IoU)).toEqual(exp.IoU);
      expect(nullNaN(m.Acc)).toEqual(exp.Acc);
      expect(m.mIoU).toBe(exp.mIoU);
      expect(m.mAcc).toBe(exp.mAcc);
      for (const k of ['aAcc', 'mIoU', 'mAcc'] as const) expect(Math.round(m[k] * 10000) / 100).toBeCloseTo(exp.mmseg_summary_percent[k], 2);
      // The folder evaluator gives the same numbers.
      const viaDirs = evaluateLabelDirs(join(dir, 'gt'), join(dir, 'pred'), {
        numClasses: exp.num_classes,
        ignoreIndex: exp.ignore_index,
        reduceZeroLabel: exp.reduce_zero_label,
      }).metrics;
      expect(viaDirs.mIoU).toBe(exp.mIoU);
      expect(miouTable(m, acc.classNames)).toContain('per class results:');
    });
  }
});

describe('miou semantics', () => {
  it('reduce_zero_label maps GT only; out-of-range values count nowhere', () => {
    const gt = Uint8Array.from([0, 1, 2, 255, 200, 3]);
    const pred = Uint8Array.from([0, 0, 1, 1, 2, 9]);
    const r = intersectAndUnion(pred, gt, 3, 255, true);
    // gt → [255, 0, 1, 255, 199, 2]; kept pixels 1,2,4,5 with preds 0,1,2,9.
    expect([...r.areaIntersect]).toEqual([1, 1, 0]);
    expect([...r.areaLabel]).toEqual([1, 1, 1]);
    expect([...r.areaPredLabel]).toEqual([1, 1, 1]);
    expect([...r.areaUnion]).toEqual([1, 1, 2]);
  });

  it('classes absent from both are NaN and left out of the means; all-NaN gives NaN', () => {
    const m = totalAreaToMetrics({
      areaIntersect: Float64Array.from([2, 0, 0]),
      areaUnion: Float64Array.from([4, 0, 3]),
      areaPredLabel: Float64Array.from([3, 0, 3]),
      areaLabel: Float64Array.from([3, 0, 0]),
    });
    expect(nullNaN(m.IoU)).toEqual([0.5, null, 0]);
    expect(nullNaN(m.Acc)).toEqual([2 / 3, null, null]);
    expect(m.mIoU).toBe(0.25);
    expect(m.mAcc).toBe(2 / 3);
    const empty = new IoUAccumulator({ numClasses: 2 }).metrics();
    expect(Number.isNaN(empty.mIoU)).toBe(true);
  });

  it('reads palette PNGs as raw indices, not colours', () => {
    const dir = mkdtempSync(join(tmpdir(), 'miou-'));
    const idx = Uint8Array.from([0, 1, 2, 255, 2, 1]);
    const file = join(dir, 'p.png');
    writeFileSync(file, palettePng(3, 2, idx));
    const m = readLabelPng(file);
    expect([m.width, m.height]).toEqual([3, 2]);
    expect([...m.data]).toEqual([...idx]);
  });
});

/** A minimal 8-bit palette PNG (colour type 3) whose palette colours differ from the indices. */
function palettePng(w: number, h: number, idx: Uint8Array): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 3;
  const plte = Buffer.alloc(256 * 3);
  for (let i = 0; i < 256; i++) plte.set([(i * 7) % 256, 255 - i, 100], i * 3);
  const raw = Buffer.alloc(h * (w + 1));
  for (let y = 0; y < h; y++) raw.set(idx.subarray(y * w, y * w + w), y * (w + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', plte),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
