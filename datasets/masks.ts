/**
 * COCO segmentation -> bitmap (row-major HxW Uint8Array of 0/1), through the
 * pycocotools-exact RLE utilities in evaluation/mask (mmdet's _poly2mask rule:
 * polygons -> frPyObjects -> merge; uncompressed RLE -> frPyObjects; compressed as is).
 */
import { decodeRowMajor, encode, frPyObjects, fromObject, merge, type Rle, type RleObject } from '../evaluation/mask';

export type Polygon = number[]; // [x1, y1, x2, y2, ...]
export type Segmentation = Polygon[] | RleObject;

export function segmentationToRle(seg: Segmentation, h: number, w: number): Rle {
  if (Array.isArray(seg)) {
    const r = frPyObjects(seg, h, w);
    return Array.isArray(r) ? (r.length ? merge(r) : { h, w, counts: Uint32Array.of(h * w) }) : r;
  }
  const rle = typeof seg.counts === 'string' ? fromObject(seg) : (frPyObjects(seg, h, w) as Rle);
  if (rle.h !== h || rle.w !== w) throw new Error(`RLE size [${rle.h}, ${rle.w}] differs from the image size [${h}, ${w}]`);
  return rle;
}

export function segmentationToBitmap(seg: Segmentation, h: number, w: number): Uint8Array {
  return decodeRowMajor(segmentationToRle(seg, h, w));
}

/** Uncompressed COCO RLE ({size, counts: number[]}) of a row-major HxW bitmap. */
export function bitmapToUncompressedRle(mask: Uint8Array, h: number, w: number): { size: [number, number]; counts: number[] } {
  const col = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) col[x * h + y] = mask[y * w + x];
  return { size: [h, w], counts: Array.from(encode(col, h, w).counts) };
}
