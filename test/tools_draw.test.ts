import { describe, expect, it } from 'vitest';
import { datasetClasses } from '../engine/runner';
import type { BuiltDataset } from '../core/registry';
import { autoScale, captionOf, classColor, drawDetections, fontScale, layoutCaptions, textSize } from '../visualization/draw_detections';
import { defaultPalette } from '../visualization/seg_overlay';
import { labelColor } from '../visualization/palette';

const overlap = (a: { x: number; y: number; w: number; h: number }, b: typeof a) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe('one drawing module', () => {
  it('detections, segmentation overlays and browse_dataset share one palette', () => {
    for (let k = 0; k < 20; k++) {
      expect(defaultPalette(20)[k]).toEqual(classColor(k));
      expect(labelColor(k)).toEqual(classColor(k));
    }
    expect(new Set(Array.from({ length: 20 }, (_, k) => classColor(k).join())).size).toBe(20);
  });

  it('captions of nested boxes do not overlap (and stay inside the image)', () => {
    const boxes = [
      [10, 10, 200, 200],
      [12, 12, 150, 150],
      [14, 14, 100, 100],
      [11, 0, 60, 60],
    ];
    const sizes = boxes.map(() => textSize('person 0.99', 2));
    const rects = layoutCaptions(boxes, sizes, 300, 300);
    for (let i = 0; i < rects.length; i++) {
      expect(rects[i].x).toBeGreaterThanOrEqual(0);
      expect(rects[i].y).toBeGreaterThanOrEqual(0);
      expect(rects[i].y + rects[i].h).toBeLessThanOrEqual(300);
      for (let j = 0; j < i; j++) expect(overlap(rects[i], rects[j]), `captions ${i} and ${j}`).toBe(false);
    }
  });

  it('font and drawing scale follow the image size', () => {
    expect(fontScale(160, 120)).toBe(1);
    expect(fontScale(1333, 800)).toBe(4);
    expect(autoScale(160, 120)).toBe(3);
    expect(autoScale(1333, 800)).toBe(1);
  });

  it('drawDetections enlarges a small image, draws names from the class list, and honours the score threshold', () => {
    const img = { width: 100, height: 80, data: new Uint8Array(100 * 80 * 3).fill(255) };
    const det = { bboxes: Float32Array.from([10, 10, 50, 50, 60, 20, 90, 70]), scores: Float32Array.from([0.9, 0.2]), labels: Int32Array.from([1, 0]) };
    const out = drawDetections(img, det, { classes: ['circle', 'square'], scoreThr: 0.5 });
    expect([out.width, out.height]).toEqual([400, 320]);
    // the kept box's outline is in class 1's colour at its scaled corner (40, 40)
    const px = (x: number, y: number) => Array.from(out.data.subarray((y * out.width + x) * 3, (y * out.width + x) * 3 + 3));
    expect(px(40, 100)).toEqual(classColor(1));
    // the 0.2 detection (below thr) leaves its box untouched
    expect(px(240, 150)).toEqual([255, 255, 255]);
    expect(captionOf(1, 0.9, ['circle', 'square'])).toBe('square 0.90');
    expect(captionOf(3, 0.5, null)).toBe('3 0.50');
  });

  it('training checkpoints carry the dataset class names (meta.CLASSES)', () => {
    expect(datasetClasses({ raw: { classes: ['circle', 'square'] } } as unknown as BuiltDataset)).toEqual(['circle', 'square']);
    expect(datasetClasses({ raw: {} } as unknown as BuiltDataset)).toBeNull();
  });
});
