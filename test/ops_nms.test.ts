import { describe, expect, it } from 'vitest';
import { bboxOverlaps, boxIou } from '../ops/boxes';
import { argsortDesc, batchedNms, nms } from '../ops/nms';
import { f32, loadOpFixture, maxAbsDiff } from './helpers/op_fixtures';

const nmsFx = loadOpFixture('nms.json');
const iouFx = loadOpFixture('box_iou.json');

describe('nms vs test/fixtures/ops/nms.json', () => {
  it('has the three groups', () => {
    expect(nmsFx.groups.map((g: { name: string }) => g.name)).toEqual(['nms_random', 'nms_all_scores_tied', 'batched_nms_random']);
  });
  for (const g of nmsFx.groups) {
    for (const run of g.runs) {
      it(`${g.name} @ ${run.iou_threshold}: equals keep_stable_ties (and keep, which is the same set)`, () => {
        const boxes = f32(g.boxes);
        const scores = f32(g.scores);
        const keep = g.name.startsWith('batched')
          ? batchedNms(boxes, scores, Int32Array.from(g.idxs.data), run.iou_threshold)
          : nms(boxes, scores, run.iou_threshold);
        expect(Array.from(keep)).toEqual(run.keep_stable_ties);
        expect([...keep].sort((a, b) => a - b)).toEqual([...run.keep].sort((a: number, b: number) => a - b));
        if (!run.tie_order_matters) expect(Array.from(keep)).toEqual(run.keep);
        // maxNum truncates the same ordered list.
        const k3 = g.name.startsWith('batched')
          ? batchedNms(boxes, scores, Int32Array.from(g.idxs.data), run.iou_threshold, 3)
          : nms(boxes, scores, run.iou_threshold, 3);
        expect(Array.from(k3)).toEqual(run.keep_stable_ties.slice(0, 3));
      });
    }
  }
  it('planted cases: IoU exactly 0.5 keeps both at 0.5; identical point boxes both survive (NaN IoU)', () => {
    const g = nmsFx.groups[0];
    const keep = new Set(nms(f32(g.boxes), f32(g.scores), 0.5));
    for (const i of g.special_indices['iou_exactly_0.5']) expect(keep.has(i)).toBe(true);
    for (const i of g.special_indices.identical_points) expect(keep.has(i)).toBe(true);
    const [a, b] = g.special_indices.duplicate_same_score;
    expect(keep.has(a) !== keep.has(b) || (!keep.has(a) && !keep.has(b))).toBe(true);
  });
  it('boxes of different classes never suppress each other; empty input', () => {
    const boxes = new Float32Array([0, 0, 10, 10, 0, 0, 10, 10]);
    const scores = new Float32Array([0.9, 0.8]);
    expect(Array.from(batchedNms(boxes, scores, new Int32Array([0, 1]), 0.5))).toEqual([0, 1]);
    expect(Array.from(batchedNms(boxes, scores, new Int32Array([2, 2]), 0.5))).toEqual([0]);
    expect(nms(new Float32Array(0), new Float32Array(0), 0.5).length).toBe(0);
    expect(batchedNms(new Float32Array(0), new Float32Array(0), new Int32Array(0), 0.5).length).toBe(0);
  });
  it('threshold compared in float32 like mmcv: IoU exactly float32(0.3) does not exceed 0.3', () => {
    // IoU = 30/100, which rounds to float32(0.3) > 0.3: torchvision (float64 compare) would suppress.
    const boxes = new Float32Array([0, 0, 10, 10, 0, 0, 10, 3]);
    expect(Array.from(nms(boxes, new Float32Array([0.9, 0.8]), 0.3))).toEqual([0, 1]);
    expect(Array.from(nms(boxes, new Float32Array([0.9, 0.8]), 0.29))).toEqual([0]);
  });
  it('argsortDesc is stable', () => {
    expect(Array.from(argsortDesc([0.5, 0.7, 0.5, 0.7, 0.1]))).toEqual([1, 3, 0, 2, 4]);
  });
});

describe('box IoU vs test/fixtures/ops/box_iou.json', () => {
  it('boxIou = torchvision box_iou (NaN at the same places), bboxOverlaps = eps-clamped form', () => {
    expect(iouFx.cases.length).toBe(3);
    for (const c of iouFx.cases) {
      const a = f32(c.boxes1);
      const b = f32(c.boxes2);
      const want = f32(c.iou);
      const got = boxIou(a, b);
      for (let i = 0; i < want.length; i++) expect(Number.isNaN(got[i]), `${c.name} NaN at ${i}`).toBe(Number.isNaN(want[i]));
      // README: f32-vs-f64 gap 1.7e-8 (hidden 1.3e-7), suggested atol 5e-7.
      expect(maxAbsDiff(got, want), c.name).toBeLessThan(5e-7);
      const wantClamped = f32(c['iou_union_clamped_eps_1e-6']);
      const gotClamped = bboxOverlaps(a, b, 'iou');
      expect(gotClamped.some(Number.isNaN)).toBe(false);
      expect(maxAbsDiff(gotClamped, wantClamped), `${c.name} clamped`).toBeLessThan(5e-7);
    }
    const special = iouFx.cases.find((c: { name: string }) => c.name === 'special_incl_zero_area');
    expect(Array.from(boxIou(f32(special.boxes1), f32(special.boxes2))).filter(Number.isNaN).length).toBe(9);
  });
  it('iof divides by the first set area', () => {
    const a = new Float32Array([0, 0, 10, 10]);
    const b = new Float32Array([5, 0, 20, 10, 0, 0, 0, 0]);
    expect(Array.from(bboxOverlaps(a, b, 'iof'))).toEqual([0.5, 0]);
    expect(Array.from(bboxOverlaps(a, b, 'iou'))).toEqual([Math.fround(50 / 200), 0]);
  });
});

describe('batchedNms: the per-class loop equals the single loop over shifted boxes', () => {
  // Random clustered boxes of several classes (non-negative coordinates, so the per-class path runs),
  // compared with nms() over the same shifted boxes, i.e. mmcv's one greedy loop.
  it('same kept list for random cases, with and without max_num', () => {
    let s = 12345;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (let t = 0; t < 40; t++) {
      const n = 50 + Math.floor(rnd() * 400);
      const classes = 1 + Math.floor(rnd() * 6);
      const boxes = new Float32Array(4 * n);
      const scores = new Float32Array(n);
      const idxs = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const cx = rnd() * 200, cy = rnd() * 150, w = 2 + rnd() * 60, h = 2 + rnd() * 60;
        boxes.set([Math.max(cx - w / 2, 0), Math.max(cy - h / 2, 0), cx + w / 2, cy + h / 2], 4 * i);
        scores[i] = t % 5 === 0 ? Math.round(rnd() * 4) / 4 : rnd(); // some runs with many ties
        idxs[i] = Math.floor(rnd() * classes);
      }
      let maxCoord = -Infinity;
      for (const v of boxes) maxCoord = Math.max(maxCoord, v);
      const step = Math.fround(maxCoord + 1);
      const shifted = new Float32Array(boxes.length);
      for (let i = 0; i < n; i++) for (let c = 0; c < 4; c++) shifted[4 * i + c] = boxes[4 * i + c] + Math.fround(idxs[i] * step);
      for (const thr of [0.3, 0.5, 0.7, 0]) {
        for (const maxNum of [-1, 7]) {
          expect(Array.from(batchedNms(boxes, scores, idxs, thr, maxNum)), `case ${t} thr ${thr} max ${maxNum}`).toEqual(Array.from(nms(shifted, scores, thr, maxNum)));
        }
      }
    }
  });
});
