import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { addSegConfusion, detectionConfusionMatrix, normalizeRows } from '../evaluation/confusion_matrix';

// Two classes (ids 7 'cat', 3 'dog' -> sorted by id: dog = 0, cat = 1), two images.
const gt = {
  images: [{ id: 1 }, { id: 2 }],
  categories: [
    { id: 7, name: 'cat' },
    { id: 3, name: 'dog' },
  ],
  annotations: [
    { image_id: 1, category_id: 3, bbox: [0, 0, 10, 10], iscrowd: 0 }, // dog A
    { image_id: 1, category_id: 7, bbox: [20, 20, 10, 10], iscrowd: 0 }, // cat B
    { image_id: 1, category_id: 7, bbox: [50, 50, 10, 10], iscrowd: 1 }, // crowd: not counted
    { image_id: 2, category_id: 7, bbox: [0, 0, 10, 10], iscrowd: 0 }, // cat C: missed
  ],
};
const results = [
  { image_id: 1, category_id: 3, bbox: [0, 0, 10, 10], score: 0.9 }, // dog on dog A: TP [dog, dog]
  { image_id: 1, category_id: 3, bbox: [20, 20, 10, 9], score: 0.8 }, // dog on cat B (IoU 0.9): [cat, dog]
  { image_id: 1, category_id: 7, bbox: [50, 50, 10, 10], score: 0.7 }, // on the crowd box only: background FP [bg, cat]
  { image_id: 1, category_id: 7, bbox: [20, 20, 10, 10], score: 0.2 }, // below score_thr: ignored
  { image_id: 2, category_id: 3, bbox: [0, 0, 10, 4], score: 0.9 }, // IoU 0.4 < 0.5 with cat C: [bg, dog]
];

describe('detection confusion matrix (mmdet confusion_matrix.py)', () => {
  it('counts TPs, class confusions, background FPs and FNs with score 0.3 / IoU 0.5', () => {
    const m = detectionConfusionMatrix(gt, results);
    expect(m.names).toEqual(['dog', 'cat', 'background']);
    // rows gt (dog, cat, bg), cols pred (dog, cat, bg)
    expect(Array.from(m.counts)).toEqual([1, 0, 0, 1, 0, 2, 1, 1, 0]);
    expect(Array.from(normalizeRows(m)).map((v) => Math.round(v))).toEqual([100, 0, 0, 33, 0, 67, 50, 50, 0]);
    expect(() => detectionConfusionMatrix(gt, [{ image_id: 1, category_id: 99, bbox: [0, 0, 1, 1], score: 1 }], {}, 'r.json')).toThrow(/r.json: result #0 has category_id 99/);
  });
});

describe('segmentation confusion matrix', () => {
  it('counts pixels [gt, pred], skipping ignore_index, and applies reduce_zero_label', () => {
    const c = new Float64Array(4);
    addSegConfusion(c, 2, [0, 1, 1, 0, 1], [0, 1, 0, 255, 1]);
    expect(Array.from(c)).toEqual([1, 1, 0, 2]);
    const r = new Float64Array(4);
    addSegConfusion(r, 2, [0, 1, 1], [0, 1, 2], 255, true); // GT 0 ignored; 1 -> 0, 2 -> 1
    expect(Array.from(r)).toEqual([0, 1, 0, 1]);
  });
});

describe('tools/confusion_matrix', () => {
  it('det writes a PNG heatmap and the counts json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cm-'));
    writeFileSync(join(dir, 'gt.json'), JSON.stringify(gt));
    writeFileSync(join(dir, 'res.json'), JSON.stringify(results));
    const out = execFileSync('tools/confusion_matrix', ['det', '--gt', join(dir, 'gt.json'), '--results', join(dir, 'res.json'), '--out', join(dir, 'cm.png')], { encoding: 'utf8' });
    expect(out).toMatch(/wrote .*cm\.png and .*cm\.json \(3x3, 6 counts\)/);
    const png = PNG.sync.read(readFileSync(join(dir, 'cm.png')));
    expect(png.width).toBeGreaterThan(100);
    expect(JSON.parse(readFileSync(join(dir, 'cm.json'), 'utf8')).counts).toEqual([
      [1, 0, 0],
      [1, 0, 2],
      [1, 1, 0],
    ]);
  });
});
