// RLE / mask utilities against pycocotools' vectors (test/fixtures/coco_eval/mask_utils.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as mask from '../evaluation/mask';
import type { RleObject } from '../evaluation/mask';

const FIX = join(__dirname, 'fixtures', 'coco_eval', 'mask_utils.json');
const data = JSON.parse(readFileSync(FIX, 'utf8'));

/** mask_rows (row strings) → column-major 0/1. */
function colMajor(rows: string[], h: number, w: number): Uint8Array {
  const m = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) m[x * h + y] = rows[y][x] === '1' ? 1 : 0;
  return m;
}

function rowsOf(rle: mask.Rle): string[] {
  const m = mask.decode(rle);
  const rows: string[] = [];
  for (let y = 0; y < rle.h; y++) {
    let s = '';
    for (let x = 0; x < rle.w; x++) s += m[x * rle.h + y] ? '1' : '0';
    rows.push(s);
  }
  return rows;
}

const obj = (r: mask.Rle) => mask.toObject(r);

describe('mask utils (pycocotools vectors)', () => {
  it('has every group', () => {
    for (const g of ['encode', 'decode', 'area_toBbox', 'frPyObjects_polygon', 'frPyObjects_bbox', 'frPyObjects_uncompressed', 'merge', 'iou_rle', 'iou_bbox']) {
      expect(Array.isArray(data[g]) && data[g].length > 0, g).toBe(true);
    }
  });

  it('encode: counts and compressed string', () => {
    for (const v of data.encode) {
      const r = mask.encode(colMajor(v.mask_rows, v.h, v.w), v.h, v.w);
      expect([...r.counts]).toEqual(v.counts_uncompressed);
      expect(obj(r)).toEqual(v.rle);
      expect([...mask.countsFromString(v.rle.counts)]).toEqual(v.counts_uncompressed);
    }
  });

  it('decode', () => {
    for (const v of data.decode) expect(rowsOf(mask.fromObject(v.rle))).toEqual(v.mask_rows);
  });

  it('area and toBbox', () => {
    for (const v of data.area_toBbox) {
      const r = mask.fromObject(v.rle);
      expect(mask.area(r)).toBe(v.area);
      expect(mask.toBbox(r)).toEqual(v.bbox);
    }
  });

  it('frPyObjects polygons, their union, area and box', () => {
    for (const v of data.frPyObjects_polygon) {
      const rles = mask.frPyObjects(v.polygons, v.h, v.w) as mask.Rle[];
      expect(rles.map(obj)).toEqual(v.rles);
      const merged = mask.merge(rles);
      expect(obj(merged)).toEqual(v.merged);
      expect(mask.area(merged)).toBe(v.merged_area);
      expect(mask.toBbox(merged)).toEqual(v.merged_bbox);
      if (v.merged_mask_rows) expect(rowsOf(merged)).toEqual(v.merged_mask_rows);
    }
  });

  it('frBboxes (explicit box input, pycocotools frBbox)', () => {
    for (const v of data.frPyObjects_bbox) {
      const rles = mask.frBboxes([v.bbox], v.h, v.w);
      expect(obj(rles[0])).toEqual(v.rle);
    }
    expect(() => mask.frPyObjects([1, 2, 3, 4], 10, 10)).toThrow(/flat box/);
  });

  it('frPyObjects uncompressed RLE', () => {
    for (const v of data.frPyObjects_uncompressed) {
      const r = mask.frPyObjects({ size: [v.h, v.w], counts: v.counts }, v.h, v.w) as mask.Rle;
      expect(obj(r)).toEqual(v.rle);
      expect(mask.area(r)).toBe(v.area);
      expect(mask.toBbox(r)).toEqual(v.bbox);
    }
  });

  it('merge (union and intersection)', () => {
    for (const v of data.merge) {
      const r = mask.merge(v.rles.map((o: RleObject) => mask.fromObject(o)), v.intersect === 1);
      expect(obj(r)).toEqual(v.rle);
    }
  });

  it('IoU between RLE sets, with crowd and size mismatch', () => {
    for (const v of data.iou_rle) {
      const o = mask.iouRle(v.dt.map(mask.fromObject), v.gt.map(mask.fromObject), v.iscrowd);
      const G = v.gt.length;
      const got = v.dt.map((_: unknown, d: number) => [...o.slice(d * G, d * G + G)]);
      expect(got).toEqual(v.iou);
    }
  });

  it('IoU between boxes, with crowd', () => {
    for (const v of data.iou_bbox) {
      const o = mask.iouBbox(v.dt, v.gt, v.iscrowd);
      const G = v.gt.length;
      const got = v.dt.map((_: unknown, d: number) => [...o.slice(d * G, d * G + G)]);
      expect(got).toEqual(v.iou);
    }
  });

  it('compressed strings round-trip large and negative differences', () => {
    const counts = [0, 5, 1_000_000, 3, 7, 2_000_000_000, 1, 1];
    expect([...mask.countsFromString(mask.countsToString(counts))]).toEqual(counts);
  });
});
