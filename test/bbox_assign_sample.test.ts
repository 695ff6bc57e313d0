import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng';
import { MaxIoUAssigner } from '../task_modules/max_iou_assigner';
import { RandomSampler } from '../task_modules/random_sampler';

const F = (a: number[]) => new Float32Array(a);

describe('MaxIoUAssigner (mmdet 2.x)', () => {
  // gt 0 = [0,0,10,10]; gt 1 = [20,0,30,10].
  const gts = F([0, 0, 10, 10, 20, 0, 30, 10]);
  const boxes = F([
    0, 0, 10, 10, // IoU 1 with gt0 -> pos 1
    0, 0, 10, 5, // IoU 0.5 with gt0 -> between neg 0.3 and pos 0.7: ignored (-1) unless low quality
    20, 0, 26, 10, // IoU 0.6 with gt1 -> best box of gt1 -> low-quality positive 2
    40, 40, 50, 50, // IoU 0 -> neg
    0, 0, 10, 2, // IoU 0.2 with gt0 -> neg
  ]);
  it('RPN setting: pos 0.7, neg 0.3, min_pos 0.3, low-quality matches', () => {
    const a = new MaxIoUAssigner({ pos_iou_thr: 0.7, neg_iou_thr: 0.3, min_pos_iou: 0.3 });
    const r = a.assign(boxes, gts, undefined, new Int32Array([3, 7]));
    expect(r.numGts).toBe(2);
    expect(Array.from(r.gtInds)).toEqual([1, -1, 2, 0, 0]);
    expect(Array.from(r.labels)).toEqual([3, -1, 7, -1, -1]);
    expect(Array.from(r.maxOverlaps)).toEqual([1, 0.5, Math.fround(0.6), 0, Math.fround(0.2)]);
  });
  it('without match_low_quality gt1 gets no box; with min_pos_iou above its best IoU neither', () => {
    const r = new MaxIoUAssigner({ pos_iou_thr: 0.7, neg_iou_thr: 0.3, match_low_quality: false }).assign(boxes, gts);
    expect(Array.from(r.gtInds)).toEqual([1, -1, -1, 0, 0]);
    expect(r.labels.length).toBe(0);
    const r2 = new MaxIoUAssigner({ pos_iou_thr: 0.7, neg_iou_thr: 0.3, min_pos_iou: 0.65 }).assign(boxes, gts);
    expect(Array.from(r2.gtInds)).toEqual([1, -1, -1, 0, 0]);
  });
  it('gt_max_assign_all gives every box tied at a gt max; otherwise only the first', () => {
    const g = F([0, 0, 10, 10]);
    const b = F([0, 0, 10, 5, 0, 5, 10, 10, 50, 50, 60, 60]); // both IoU 0.5
    const all = new MaxIoUAssigner({ pos_iou_thr: 0.7, neg_iou_thr: 0.3, min_pos_iou: 0.3 }).assign(b, g);
    expect(Array.from(all.gtInds)).toEqual([1, 1, 0]);
    const one = new MaxIoUAssigner({ pos_iou_thr: 0.7, neg_iou_thr: 0.3, min_pos_iou: 0.3, gt_max_assign_all: false }).assign(b, g);
    expect(Array.from(one.gtInds)).toEqual([1, -1, 0]);
  });
  it('threshold boundaries: IoU == neg thr is not negative, IoU == float32(0.7) is positive', () => {
    const g = F([0, 0, 10, 10]);
    // IoU 0.5 exactly, and IoU 0.7 exactly as float32 (70/100 rounds to float32(0.7) < 0.7).
    const b = F([0, 0, 10, 5, 0, 0, 10, 7, 0, 0, 10, 1]);
    const r = new MaxIoUAssigner({ pos_iou_thr: 0.7, neg_iou_thr: 0.5, match_low_quality: false }).assign(b, g);
    expect(r.maxOverlaps[1]).toBe(Math.fround(0.7));
    expect(Array.from(r.gtInds)).toEqual([-1, 1, 0]);
  });
  it('neg_iou_thr as a range [lo, hi)', () => {
    const r = new MaxIoUAssigner({ pos_iou_thr: 0.7, neg_iou_thr: [0.1, 0.3], match_low_quality: false }).assign(boxes, gts);
    expect(Array.from(r.gtInds)).toEqual([1, -1, -1, -1, 0]);
  });
  it('ignore regions by IoF: boxes mostly inside a crowd box are neither positive nor negative', () => {
    const ignore = F([38, 38, 60, 60]);
    const a = new MaxIoUAssigner({ pos_iou_thr: 0.7, neg_iou_thr: 0.3, min_pos_iou: 0.3, ignore_iof_thr: 0.5 });
    const r = a.assign(boxes, gts, ignore, new Int32Array([0, 1]));
    expect(Array.from(r.gtInds)).toEqual([1, -1, 2, -1, 0]);
    expect(r.maxOverlaps[3]).toBe(-1);
    // ignore_iof_thr -1 (the default) switches it off.
    const off = new MaxIoUAssigner({ pos_iou_thr: 0.7, neg_iou_thr: 0.3, min_pos_iou: 0.3 }).assign(boxes, gts, ignore);
    expect(off.gtInds[3]).toBe(0);
    // wrt gts: IoF of the ignore box over the candidate: 100/484 < 0.5 -> not ignored.
    const wrt = new MaxIoUAssigner({ pos_iou_thr: 0.7, neg_iou_thr: 0.3, ignore_iof_thr: 0.5, ignore_wrt_candidates: false }).assign(boxes, gts, ignore);
    expect(wrt.gtInds[3]).toBe(0);
  });
  it('no gt: everything negative with zero overlap; no boxes: empty result', () => {
    const r = new MaxIoUAssigner({ pos_iou_thr: 0.5, neg_iou_thr: 0.5, min_pos_iou: 0.5 }).assign(boxes, F([]), undefined, new Int32Array(0));
    expect(Array.from(r.gtInds)).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(r.maxOverlaps)).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(r.labels)).toEqual([-1, -1, -1, -1, -1]);
    const e = new MaxIoUAssigner({ pos_iou_thr: 0.5, neg_iou_thr: 0.5 }).assign(F([]), gts);
    expect(e.gtInds.length).toBe(0);
    expect(e.numGts).toBe(2);
  });
  it('more gts than boxes: each box goes to the gt that overlaps it most (later gts win ties)', () => {
    const b = F([0, 0, 10, 10]);
    const g = F([0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 5, 5]);
    const r = new MaxIoUAssigner({ pos_iou_thr: 0.5, neg_iou_thr: 0.5, min_pos_iou: 0.5 }).assign(b, g);
    // argmax picks gt0, then the low-quality loop lets gt1 (also max 1) take it.
    expect(Array.from(r.gtInds)).toEqual([2]);
  });
});

describe('RandomSampler (mmdet 2.x)', () => {
  function bigCase(nPos: number, nNeg: number) {
    const boxes = new Float32Array((nPos + nNeg) * 4);
    const gtInds = new Int32Array(nPos + nNeg);
    for (let i = 0; i < nPos + nNeg; i++) {
      boxes.set([i, i, i + 10, i + 10], i * 4);
      gtInds[i] = i < nPos ? (i % 2) + 1 : 0;
    }
    const labels = Int32Array.from(gtInds, (g) => (g > 0 ? g * 10 : -1));
    return { boxes, assign: { numGts: 2, gtInds, maxOverlaps: new Float32Array(nPos + nNeg), labels } };
  }
  const gt = F([0, 0, 10, 10, 1, 1, 11, 11]);
  const gtLabels = new Int32Array([10, 20]);

  it('RPN setting: 256 at 0.5 caps positives at 128 and fills with negatives', () => {
    const { boxes, assign } = bigCase(300, 1000);
    const s = new RandomSampler({ num: 256, pos_fraction: 0.5, add_gt_as_proposals: false }).sample(assign, boxes, gt, undefined, new Rng(1).next.bind(new Rng(1)));
    expect(s.posInds.length).toBe(128);
    expect(s.negInds.length).toBe(128);
    expect(new Set(s.posInds).size).toBe(128);
    for (let i = 1; i < s.posInds.length; i++) expect(s.posInds[i]).toBeGreaterThan(s.posInds[i - 1]);
    for (const i of s.posInds) expect(i).toBeLessThan(300);
    for (const i of s.negInds) expect(i).toBeGreaterThanOrEqual(300);
    expect(Array.from(s.posAssignedGtInds)).toEqual(Array.from(s.posInds, (i) => i % 2));
    expect(s.posGtLabels.length).toBe(128);
    expect(Array.from(s.posBboxes.subarray(0, 4))).toEqual([s.posInds[0], s.posInds[0], s.posInds[0] + 10, s.posInds[0] + 10]);
    expect(Array.from(s.posGtBboxes.subarray(0, 4))).toEqual(Array.from(gt.subarray((s.posInds[0] % 2) * 4, (s.posInds[0] % 2) * 4 + 4)));
  });
  it('R-CNN setting: 512 at 0.25 with gts prepended as positives; few positives -> more negatives', () => {
    const { boxes, assign } = bigCase(20, 1000);
    const rng = new Rng(7);
    const s = new RandomSampler({ num: 512, pos_fraction: 0.25, add_gt_as_proposals: true }).sample(assign, boxes, gt, gtLabels, () => rng.next());
    // 2 gts + 20 positives, all kept (< 128); negatives fill the remaining 490.
    expect(s.posInds.length).toBe(22);
    expect(s.negInds.length).toBe(512 - 22);
    expect(Array.from(s.posInds.subarray(0, 2))).toEqual([0, 1]);
    expect(Array.from(s.posIsGt.subarray(0, 3))).toEqual([1, 1, 0]);
    expect(Array.from(s.posGtLabels.subarray(0, 4))).toEqual([10, 20, 10, 20]);
    expect(Array.from(s.posBboxes.subarray(0, 8))).toEqual(Array.from(gt));
    for (const i of s.negInds) expect(i).toBeGreaterThanOrEqual(22); // indices into [gt; boxes]
    expect(s.assign.gtInds.length).toBe(1022);
    expect(assign.gtInds.length).toBe(1020); // the caller's assignment is not modified
  });
  it('neg_pos_ub bounds negatives; proportions hold on average over seeds', () => {
    const { boxes, assign } = bigCase(10, 1000);
    const s = new RandomSampler({ num: 256, pos_fraction: 0.5, neg_pos_ub: 3, add_gt_as_proposals: false }).sample(assign, boxes, gt, undefined, Math.random);
    expect(s.negInds.length).toBe(30);
    // Uniformity: over many draws each negative is picked with probability 246/1000.
    const counts = new Float64Array(1010);
    const rng = new Rng(3);
    const sampler = new RandomSampler({ num: 256, pos_fraction: 0.5, add_gt_as_proposals: false });
    for (let t = 0; t < 200; t++) for (const i of sampler.sample(assign, boxes, gt, undefined, () => rng.next()).negInds) counts[i]++;
    const firstHalf = counts.slice(10, 510).reduce((a, b) => a + b, 0);
    const secondHalf = counts.slice(510).reduce((a, b) => a + b, 0);
    expect(Math.abs(firstHalf - secondHalf) / (firstHalf + secondHalf)).toBeLessThan(0.03);
  });
  it('no gt: all negatives, empty positives', () => {
    const boxes = F([0, 0, 5, 5, 1, 1, 6, 6]);
    const s = new RandomSampler({ num: 512, pos_fraction: 0.25, add_gt_as_proposals: true }).sample(
      { numGts: 0, gtInds: new Int32Array([0, 0]), maxOverlaps: new Float32Array(2), labels: new Int32Array([-1, -1]) },
      boxes, F([]), new Int32Array(0), Math.random);
    expect(s.posInds.length).toBe(0);
    expect(Array.from(s.negInds)).toEqual([0, 1]);
    expect(s.posGtBboxes.length).toBe(0);
  });
});
