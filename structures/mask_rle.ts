// Binary masks of predictions -> COCO compressed RLE (pycocotools' format), so results of a whole
// validation set stay small. RLE runs over the column-major flattening; our bitmaps are row-major.
import { decodeRowMajor, encode, fromObject, type RleObject, toObject } from '../evaluation/mask';
import type { DetectionResult, InstanceResult } from './results';

export type { RleObject } from '../evaluation/mask';

/** Row-major h x w 0/1 bitmap -> {size: [h, w], counts: string}. */
export function bitmapToRle(mask: Uint8Array, h: number, w: number): RleObject {
  const col = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) if (mask[row + x]) col[x * h + y] = 1;
  }
  return toObject(encode(col, h, w));
}

/** {size: [h, w], counts} -> row-major h x w 0/1 bitmap (the inverse of bitmapToRle). */
export function rleToBitmap(rle: RleObject): Uint8Array {
  return decodeRowMajor(fromObject(rle));
}

/** A result with RLE masks (MaskRCNN.predict) as bitmaps (MaskRCNN.predictBitmaps' form), e.g. for drawing. */
export function instanceResultBitmaps(r: InstanceResult): DetectionResult {
  const out: DetectionResult = { bboxes: r.bboxes, scores: r.scores, labels: r.labels };
  if (r.masks) out.masks = r.masks.map(rleToBitmap);
  return out;
}
