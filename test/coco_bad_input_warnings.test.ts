// Bad COCO input that the references accept (issue 14, item 4): one warning line per kind, with the
// count and the first offending id, and nothing else changed.
// - Evaluation (pycocotools): annotations on image ids not in `images` (never evaluated), polygons
//   with an odd count (floor(n/2) points) or later polygons of fewer than 3 points (no pixels), RLEs
//   whose `size` is not the image's or whose counts do not sum to h*w, result rows with a category_id
//   not in the GT: the metric numbers equal those of the equivalent clean input pycocotools treats
//   the same way. An RLE pycocotools would loop on forever is refused in one line instead.
// - Training (mmdetection): annotations on unknown images are dropped, odd/short polygons dropped,
//   bad non-crowd RLEs make the instance ignored; each kind is counted in `dataset.dropped`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CocoDataset } from '../datasets/coco';
import { COCO, COCOeval, type CocoDataset as CocoJson, type IouType } from '../evaluation';
import * as mask from '../evaluation/mask';
import { encodePng } from './helpers/png_encode';

const H = 40;
const W = 40;

/** Compressed RLE of the axis-aligned square [x, y, x+s) x [y, y+s) in an h x w image. */
function squareRle(x: number, y: number, s: number, h = H, w = W): mask.RleObject {
  const col = new Uint8Array(h * w);
  for (let xx = x; xx < x + s; xx++) for (let yy = y; yy < y + s; yy++) col[xx * h + yy] = 1;
  return mask.toObject(mask.encode(col, h, w));
}

const square = (x: number, y: number, s: number) => [x, y, x + s, y, x + s, y + s, x, y + s];

function gtBase(annotations: object[]): CocoJson {
  return {
    images: [
      { id: 1, width: W, height: H, file_name: 'a.png' },
      { id: 2, width: W, height: H, file_name: 'b.png' },
    ],
    categories: [
      { id: 1, name: 'thing' },
      { id: 2, name: 'other' },
    ],
    annotations: annotations as CocoJson['annotations'],
  };
}

const ann = (id: number, image_id: number, category_id: number, segmentation: unknown, bbox: number[], extra: object = {}) => ({
  id,
  image_id,
  category_id,
  segmentation,
  bbox,
  area: bbox[2] * bbox[3],
  iscrowd: 0,
  ...extra,
});

/** COCOeval of `results` against `gt`; returns the 12 stats and every console.warn line. */
function evaluate(gt: CocoJson, results: object[], iouType: IouType): { stats: number[]; warnings: string[] } {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    const cocoGt = new COCO(structuredClone(gt), 'gt.json');
    const E = new COCOeval(cocoGt, cocoGt.loadRes(structuredClone(results), 'res.json'), iouType);
    E.evaluate();
    E.accumulate();
    E.summarize();
    return { stats: E.stats, warnings: warn.mock.calls.map((c) => String(c[0])) };
  } finally {
    warn.mockRestore();
  }
}

// Detections: squares over the clean GT of both images, one a little off, one false positive.
const segmResults = [
  { image_id: 1, category_id: 1, score: 0.9, segmentation: squareRle(5, 5, 10) },
  { image_id: 1, category_id: 2, score: 0.8, segmentation: squareRle(22, 20, 10) },
  { image_id: 2, category_id: 1, score: 0.7, segmentation: squareRle(4, 6, 12) },
  { image_id: 2, category_id: 1, score: 0.6, segmentation: squareRle(30, 30, 6) },
];
const cleanAnns = [
  ann(1, 1, 1, [square(5, 5, 10)], [5, 5, 10, 10]),
  ann(2, 1, 2, [square(20, 20, 10)], [20, 20, 10, 10]),
  ann(3, 2, 1, [square(5, 5, 12)], [5, 5, 12, 12]),
];
const bboxResults = [
  { image_id: 1, category_id: 1, score: 0.9, bbox: [5, 5, 10, 10] },
  { image_id: 1, category_id: 2, score: 0.8, bbox: [22, 20, 10, 10] },
  { image_id: 2, category_id: 1, score: 0.7, bbox: [4, 6, 12, 12] },
  { image_id: 2, category_id: 1, score: 0.6, bbox: [30, 30, 6, 6] },
];

describe('evaluation: accepted bad input warns once per kind and keeps pycocotools numbers', () => {
  it("annotations on image ids not in 'images': one line, numbers as without them (COCOeval never selects them)", () => {
    const bad = [...cleanAnns, ann(17, 99, 1, [square(1, 1, 9)], [1, 1, 9, 9]), ann(18, 98, 2, [square(1, 1, 9)], [1, 1, 9, 9])];
    for (const t of ['bbox', 'segm'] as const) {
      const res = t === 'bbox' ? bboxResults : segmResults;
      const got = evaluate(gtBase(bad), res, t);
      const clean = evaluate(gtBase(cleanAnns), res, t);
      expect(got.warnings).toEqual([
        "warning: gt.json: 2 annotations have an image_id that is not in 'images' (first: annotation id 17, image_id 99); pycocotools never evaluates them",
      ]);
      expect(clean.warnings).toEqual([]);
      expect(got.stats).toEqual(clean.stats);
      expect(got.stats[0]).toBeGreaterThan(0);
    }
  });

  it('polygons with an odd count: one line, rasterised from floor(n/2) points as pycocotools (the last value unused)', () => {
    const odd = [
      ann(17, 1, 1, [[...square(5, 5, 10), 3]], [5, 5, 10, 10]),
      ann(2, 1, 2, [square(20, 20, 10)], [20, 20, 10, 10]),
      ann(21, 2, 1, [[...square(5, 5, 12), 7]], [5, 5, 12, 12]),
    ];
    const got = evaluate(gtBase(odd), segmResults, 'segm');
    const truncated = evaluate(gtBase(cleanAnns), segmResults, 'segm');
    expect(got.warnings).toEqual([
      'warning: gt.json: 2 annotations have polygons with an odd number of coordinates (first: annotation id 17); pycocotools evaluates them as given (the last value is not used)',
    ]);
    expect(got.stats).toEqual(truncated.stats);
    expect(got.stats[0]).toBeGreaterThan(0);
  });

  it('later polygons of fewer than 3 points: one line, they add no pixels (rleFrPoly of 0-2 points)', () => {
    const short = [
      ann(17, 1, 1, [square(5, 5, 10), [3, 3, 8, 30]], [5, 5, 10, 10]),
      ann(2, 1, 2, [square(20, 20, 10)], [20, 20, 10, 10]),
      ann(19, 2, 1, [square(5, 5, 12), [1, 2]], [5, 5, 12, 12]),
    ];
    const got = evaluate(gtBase(short), segmResults, 'segm');
    const clean = evaluate(gtBase(cleanAnns), segmResults, 'segm');
    expect(got.warnings).toEqual([
      'warning: gt.json: 2 annotations have polygons with fewer than 3 points (6 numbers) (first: annotation id 17); pycocotools evaluates them as given (a polygon of 0-2 points adds no pixels)',
    ]);
    expect(got.stats).toEqual(clean.stats);
    // A first polygon of 4 numbers stays refused (pycocotools raises in frBbox): field case poly4_read_as_box.
    const coco = new COCO(gtBase([ann(7, 1, 1, [[10, 10, 30, 10], square(1, 1, 5)], [10, 10, 20, 1])]), 'gt.json');
    expect(() => coco.annToRLE(coco.anns.get(7)!)).toThrow(/gt\.json: annotation id 7: field 'segmentation': polygon 0 has 4 numbers/);
  });

  it("RLEs whose 'size' is not the image's: one line, never matched (mask IoU -1), as a non-overlapping mask", () => {
    const sized = [
      ann(17, 1, 1, squareRle(5, 5, 10, 41, 40), [5, 5, 10, 10]),
      ann(2, 1, 2, [square(20, 20, 10)], [20, 20, 10, 10]),
      ann(18, 2, 1, squareRle(5, 5, 12, 40, 39), [5, 5, 12, 12]),
    ];
    const far = [ann(17, 1, 1, squareRle(0, 30, 10), [5, 5, 10, 10]), ann(2, 1, 2, [square(20, 20, 10)], [20, 20, 10, 10]), ann(18, 2, 1, squareRle(28, 0, 12), [5, 5, 12, 12])];
    const got = evaluate(gtBase(sized), segmResults, 'segm');
    const equivalent = evaluate(gtBase(far), segmResults, 'segm');
    expect(got.warnings).toEqual([
      "warning: gt.json: 2 annotations have an RLE whose 'size' is not its image's [height, width] (first: annotation id 17, size [41, 40] for an image of [40, 40]); pycocotools evaluates them as given (mask IoU -1 against masks of the image size: never matched)",
    ]);
    expect(equivalent.warnings).toEqual([]);
    expect(got.stats).toEqual(equivalent.stats);
  });

  it('RLE counts that do not sum to h*w: one line; numbers kept where pycocotools finishes', () => {
    // Uncompressed counts one pixel short (1599 of 1600) and a compressed one one pixel long; no detection overlaps them.
    const shortCounts = { size: [H, W], counts: [35 * 40 + 1, 3, 40 * 40 - 35 * 40 - 1 - 3 - 1] };
    const long = squareRle(36, 36, 2);
    const longCounts = { size: long.size, counts: mask.countsToString([...mask.fromObject(long).counts.slice(0, -1), mask.fromObject(long).counts.at(-1)! + 1]) };
    const bad = [...cleanAnns, ann(30, 1, 1, shortCounts, [35, 1, 1, 3]), ann(31, 2, 2, longCounts, [36, 36, 2, 2])];
    const fixed = [...cleanAnns, ann(30, 1, 1, { size: [H, W], counts: [35 * 40 + 1, 3, 40 * 40 - 35 * 40 - 1 - 3] }, [35, 1, 1, 3]), ann(31, 2, 2, long, [36, 36, 2, 2])];
    const got = evaluate(gtBase(bad), segmResults, 'segm');
    const clean = evaluate(gtBase(fixed), segmResults, 'segm');
    expect(got.warnings).toEqual([
      'warning: gt.json: 2 annotations have an RLE whose counts do not sum to size[0]*size[1] (first: annotation id 30, counts sum to 1599 for 1600 pixels); pycocotools evaluates them as given; one whose box overlaps another mask of its size stops the evaluation (pycocotools loops forever there)',
    ]);
    expect(got.stats).toEqual(clean.stats);
  });

  it('result rows with a category_id not in the GT: one line, numbers as without those rows (COCOeval evaluates GT categories only)', () => {
    const extra = [...bboxResults.slice(0, 1), { image_id: 1, category_id: 5, score: 0.95, bbox: [5, 5, 10, 10] }, ...bboxResults.slice(1), { image_id: 2, category_id: 7, score: 0.5, bbox: [1, 1, 3, 3] }];
    const got = evaluate(gtBase(cleanAnns), extra, 'bbox');
    const clean = evaluate(gtBase(cleanAnns), bboxResults, 'bbox');
    expect(got.warnings).toEqual([
      'warning: res.json: 2 result rows have a category_id that is not in the categories of gt.json (first: result #1, category_id 5); pycocotools does not evaluate them',
    ]);
    expect(got.stats).toEqual(clean.stats);
  });

  it("result RLEs whose 'size' is not the image's: one line, never matched", () => {
    const bad = segmResults.map((r, i) => (i === 0 || i === 2 ? { ...r, segmentation: squareRle(5, 5, 10, 40, 41) } : r));
    // The same area far from every GT: unmatched in the same area ranges.
    const far = segmResults.map((r, i) => (i === 0 || i === 2 ? { ...r, segmentation: squareRle(28, 0, 10) } : r));
    const got = evaluate(gtBase(cleanAnns), bad, 'segm');
    const equivalent = evaluate(gtBase(cleanAnns), far, 'segm');
    expect(got.warnings).toEqual([
      "warning: res.json: 2 result rows have an RLE whose 'size' is not its image's [height, width] (first: result #0, size [40, 41] for an image of [40, 40]); pycocotools evaluates them as given (mask IoU -1 against masks of the image size: never matched)",
    ]);
    expect(got.stats).toEqual(equivalent.stats);
  });

  it('an RLE pycocotools would loop on forever (short counts overlapping a detection) is refused in one line by tools/coco_eval', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rle-loop-'));
    const gt = gtBase([ann(1, 1, 1, { size: [H, W], counts: [5 * 40 + 5, 10, 30, 10, 30] }, [5, 5, 2, 10])]);
    writeFileSync(join(dir, 'gt.json'), JSON.stringify(gt));
    writeFileSync(join(dir, 'res.json'), JSON.stringify([{ image_id: 1, category_id: 1, score: 0.9, segmentation: squareRle(5, 5, 10) }]));
    const r = spawnSync('tools/coco_eval', ['--gt', join(dir, 'gt.json'), '--results', join(dir, 'res.json'), '--iou-type', 'segm', '--quiet'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^warning: .*gt\.json: 1 annotation has an RLE whose counts do not sum to size\[0\]\*size\[1\] \(first: annotation id 1, counts sum to 285 for 1600 pixels\)/),
      expect.stringMatching(/^coco_eval: error: .*gt\.json: annotation id 1: field 'segmentation': RLE counts sum to 285, expected size\[0\]\*size\[1\] = 1600 \(pycocotools never finishes/),
    ]);
  });
});

describe('training dataset: bad input dropped or ignored, one line per kind, counted', () => {
  afterEach(() => vi.restoreAllMocks());

  function dataset(annotations: object[]): { ds: CocoDataset; warnings: string[] } {
    const d = mkdtempSync(join(tmpdir(), 'cocobad-'));
    mkdirSync(join(d, 'img'));
    for (const f of ['a.png', 'b.png']) writeFileSync(join(d, 'img', f), encodePng({ width: W, height: H, colorType: 0, bitDepth: 8, samples: new Uint8Array(W * H) }));
    writeFileSync(join(d, 'ann.json'), JSON.stringify(gtBase(annotations)));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const ds = new CocoDataset({ type: 'CocoDataset', ann_file: 'ann.json', img_prefix: 'img', pipeline: [], min_size: 1 }, d);
    return { ds, warnings: warn.mock.calls.map((c) => String(c[0]).replace(d + '/', '')) };
  }

  it("annotations on image ids not in 'images' are dropped with one line (mmdetection never reads them)", () => {
    const { ds, warnings } = dataset([...cleanAnns, ann(17, 99, 1, [square(1, 1, 9)], [1, 1, 9, 9]), ann(18, 98, 2, [square(1, 1, 9)], [1, 1, 9, 9])]);
    expect(warnings).toEqual([
      "warning: ann.json: 2 annotations have an image_id that is not in 'images' (first: annotation id 17, image_id 99); they are dropped (mmdetection never reads them)",
    ]);
    expect(ds.dropped).toEqual({ image_id: 2 });
    expect(ds.raw(0).instances!.length + ds.raw(1).instances!.length).toBe(3);
  });

  it('odd and short polygons are dropped with one line per kind, whatever the number of annotations', () => {
    const { ds, warnings } = dataset([
      ann(17, 1, 1, [square(5, 5, 10), [1, 2, 3, 4, 5, 6, 7]], [5, 5, 10, 10]),
      ann(18, 1, 2, [square(20, 20, 10), [1, 2, 3, 4, 5]], [20, 20, 10, 10]),
      ann(19, 2, 1, [square(5, 5, 12), [9, 9, 9]], [5, 5, 12, 12]),
      ann(20, 2, 2, [[1, 2, 3, 4], square(25, 25, 5)], [25, 25, 5, 5]),
    ]);
    expect(warnings).toEqual([
      'warning: ann.json: 3 annotations have polygons with an odd number of coordinates (first: annotation id 17); those polygons are dropped (mmdetection keeps polygons of an even count of at least 6 numbers)',
      'warning: ann.json: 3 annotations have polygons with fewer than 3 points (6 numbers) (first: annotation id 18); those polygons are dropped (mmdetection keeps polygons of an even count of at least 6 numbers)',
    ]);
    expect(ds.dropped).toEqual({ polygon_odd: 3, polygon_short: 3 });
    const inst = [...ds.raw(0).instances!, ...ds.raw(1).instances!];
    expect(inst.map((i) => i.segmentation)).toEqual([[square(5, 5, 10)], [square(20, 20, 10)], [square(5, 5, 12)], [square(25, 25, 5)]]);
  });

  it("non-crowd RLEs with a wrong 'size' or counts make the instance ignored, one line per kind", () => {
    const { ds, warnings } = dataset([
      ann(17, 1, 1, squareRle(5, 5, 10, 41, 40), [5, 5, 10, 10]),
      ann(18, 1, 2, squareRle(20, 20, 10, 40, 41), [20, 20, 10, 10]),
      ann(19, 2, 1, { size: [H, W], counts: [205, 10, 30] }, [5, 5, 1, 10]),
      ann(20, 2, 2, squareRle(25, 25, 5), [25, 25, 5, 5]),
      // Crowd masks are never decoded for training: left as they are.
      ann(21, 2, 1, squareRle(1, 1, 3, 41, 40), [1, 1, 3, 3], { iscrowd: 1 }),
    ]);
    expect(warnings).toEqual([
      "warning: ann.json: 2 annotations have an RLE whose 'size' is not its image's [height, width] (first: annotation id 17, size [41, 40] for an image of [40, 40]); the instances are ignored (an ignore box, no mask), as mmdetection ignores an instance without a valid mask",
      'warning: ann.json: 1 annotation has an RLE whose counts do not sum to size[0]*size[1] (first: annotation id 19, counts sum to 245 for 1600 pixels); the instances are ignored (an ignore box, no mask), as mmdetection ignores an instance without a valid mask',
    ]);
    expect(ds.dropped).toEqual({ rle_size: 2, rle_counts: 1 });
    const [a, b] = ds.raw(0).instances!;
    expect(a).toEqual({ bbox: [5, 5, 15, 15], label: 0, iscrowd: true });
    expect(b).toEqual({ bbox: [20, 20, 30, 30], label: 1, iscrowd: true });
    const img2 = ds.raw(1).instances!;
    expect(img2[0]).toEqual({ bbox: [5, 5, 6, 15], label: 0, iscrowd: true });
    expect(img2[1]).toMatchObject({ iscrowd: false, segmentation: squareRle(25, 25, 5) });
    expect(img2[2]).toMatchObject({ iscrowd: true, segmentation: squareRle(1, 1, 3, 41, 40) });
  });
});
