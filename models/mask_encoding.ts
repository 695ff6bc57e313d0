// Binary masks of predictions -> COCO compressed RLE (pycocotools' format), so results of a whole
// validation set stay small. RLE runs over the column-major flattening; our bitmaps are row-major.
import { encode, type RleObject, toObject } from '../evaluation/mask';

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
