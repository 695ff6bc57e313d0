// Polygon segmentations as pycocotools (evaluation) and mmdetection (training loader) treat them:
// a list of lists is always polygons (a first polygon of 4 numbers is a 2-point line, not a box);
// a first polygon of 4 or fewer numbers: evaluation rejects naming the annotation (pycocotools
// raises in frBbox for such a list); odd counts and later short polygons are rasterised as
// pycocotools does (test/coco_bad_input_warnings.test.ts); training drops such polygons with one
// warning per kind and ignores an instance left without polygons (mmdetection 3.x LoadAnnotations).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CocoDataset } from '../datasets/coco';
import { COCO, COCOeval } from '../evaluation';
import * as mask from '../evaluation/mask';
import { encodePng } from './helpers/png_encode';

const gt = (segmentation: unknown) => ({
  images: [{ id: 1, width: 40, height: 40, file_name: 'a.png' }],
  categories: [{ id: 1, name: 'thing' }],
  annotations: [
    { id: 7, image_id: 1, category_id: 1, segmentation, bbox: [10, 10, 20, 1], area: 20, iscrowd: 0 },
    { id: 8, image_id: 1, category_id: 1, segmentation: [[2, 25, 8, 25, 8, 35, 2, 35]], bbox: [2, 25, 6, 10], area: 60, iscrowd: 0 },
  ],
});

describe('frPyObjects: polygons are never read as boxes', () => {
  it('a first polygon of 4 numbers is refused, not rasterised as the box [10,10,30,10]', () => {
    expect(() => mask.frPyObjects([[10, 10, 30, 10]], 40, 40)).toThrow(/polygon 0 has 4 numbers; a polygon needs at least 3 points/);
    expect(() => mask.frPyObjects([[1, 2]], 40, 40)).toThrow(/polygon 0 has 2 numbers/);
    // A flat list is never a polygon list to pycocotools (len() of a number raises): refused when odd.
    expect(() => mask.frPyObjects([0, 0, 9, 0, 9], 40, 40)).toThrow(/odd count/);
  });
  it('explicit boxes still rasterise through frBboxes', () => {
    const [r] = mask.frBboxes([[10, 10, 30, 10]], 40, 40);
    expect(mask.area(r)).toBe(300);
  });
});

describe('coco_eval (segm) with a 2-point polygon', () => {
  it('errors naming the annotation id and the segmentation field', () => {
    const d = mkdtempSync(join(tmpdir(), 'poly-'));
    writeFileSync(join(d, 'gt.json'), JSON.stringify(gt([[10, 10, 30, 10]])));
    const coco = new COCO(join(d, 'gt.json'));
    const dt = coco.loadRes([{ image_id: 1, category_id: 1, score: 0.9, segmentation: { size: [40, 40], counts: mask.toObject(mask.frBboxes([[10, 10, 30, 10]], 40, 40)[0]).counts } }]);
    const E = new COCOeval(coco, dt, 'segm');
    expect(() => E.evaluate()).toThrow(/annotation id 7: field 'segmentation': polygon 0 has 4 numbers/);
  });
});

describe('COCO training loader polygon rule (mmdetection)', () => {
  afterEach(() => vi.restoreAllMocks());
  function dataset(segmentation: unknown): CocoDataset {
    const d = mkdtempSync(join(tmpdir(), 'polyds-'));
    mkdirSync(join(d, 'img'));
    writeFileSync(join(d, 'img', 'a.png'), encodePng({ width: 40, height: 40, colorType: 0, bitDepth: 8, samples: new Uint8Array(1600) }));
    writeFileSync(join(d, 'ann.json'), JSON.stringify(gt(segmentation)));
    return new CocoDataset({ type: 'CocoDataset', ann_file: 'ann.json', img_prefix: 'img', pipeline: [], min_size: 1 }, d);
  }
  it('an instance whose only polygon has 4 numbers is ignored (no mask), with a warning naming the id', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const inst = dataset([[10, 10, 30, 10]]).raw(0).instances!;
    expect(warn).toHaveBeenCalledTimes(2);
    expect(String(warn.mock.calls[0][0])).toMatch(/ann\.json: 1 annotation has polygons with fewer than 3 points \(6 numbers\) \(first: annotation id 7\); those polygons are dropped/);
    expect(String(warn.mock.calls[1][0])).toMatch(/ann\.json: 1 annotation has no valid polygon left \(first: annotation id 7\); the instances are ignored/);
    expect(inst[0]).toEqual({ bbox: [10, 10, 30, 11], label: 0, iscrowd: true });
    expect(inst[1].iscrowd).toBe(false);
  });
  it('bad polygons are dropped, good ones of the same instance kept', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const good = [10, 10, 30, 10, 30, 11, 10, 11];
    const inst = dataset([[10, 10, 30, 10], good, [1, 2, 3, 4, 5, 6, 7]]).raw(0).instances!;
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringMatching(/1 annotation has polygons with an odd number of coordinates \(first: annotation id 7\); those polygons are dropped/),
      expect.stringMatching(/1 annotation has polygons with fewer than 3 points \(6 numbers\) \(first: annotation id 7\); those polygons are dropped/),
    ]);
    expect(inst[0]).toMatchObject({ iscrowd: false, segmentation: [good] });
  });
});
