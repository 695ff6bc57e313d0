import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { blendSegmentation, writeSegVisualization } from '../visualization/seg_overlay';
import { evaluateSegResults, segTableFromMetrics } from '../evaluation/sem_seg_results';
import { encodeLabelPng, encodePngRgb } from '../datasets/io/image';

describe('segmentation visualisation and evaluation', () => {
  it('blends palette colours at opacity 0.5 and leaves unlabelled pixels', () => {
    const rgb = Uint8Array.from([100, 100, 100, 10, 20, 30]);
    const out = blendSegmentation(rgb, [0, 255], 2, 1, [[200, 0, 50]]);
    expect(Array.from(out)).toEqual([150, 50, 75, 10, 20, 30]);
  });

  it('writes the blended prediction next to its name and evaluates results against label maps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'semvis-'));
    try {
      const img = join(dir, 'im.png');
      writeFileSync(img, encodePngRgb({ data: new Uint8Array(2 * 3 * 3).fill(80), width: 3, height: 2 }));
      const res = { filename: img, height: 2, width: 3, sem_seg: Uint8Array.from([0, 1, 1, 0, 0, 1]) };
      const file = await writeSegVisualization(join(dir, 'show'), res, [
        [0, 0, 0],
        [255, 255, 255],
      ]);
      expect(file).toBe(join(dir, 'show', 'im.png'));
      const png = PNG.sync.read(readFileSync(file));
      expect([png.width, png.height]).toEqual([3, 2]);
      expect(Array.from(png.data.subarray(0, 8))).toEqual([40, 40, 40, 255, 168, 168, 168, 255]);
      // GT: one pixel ignored (255), one wrong: class 0 IoU 2/3, class 1 IoU 2/3... computed by hand.
      const gtFile = join(dir, 'gt.png');
      writeFileSync(gtFile, encodeLabelPng({ data: Uint8Array.from([0, 1, 0, 0, 255, 1]), width: 3, height: 2 }));
      const ev = evaluateSegResults([res], [gtFile], { classNames: ['a', 'b'], reduceZeroLabel: false });
      // pred [0,1,1,0,-,1] vs gt [0,1,0,0,-,1]: class a: inter 2, union 3; class b: inter 2, union 3; 4/5 correct.
      expect(ev.metrics.aAcc).toBe(80 / 100); // mmseg: np.round(100 * v, 2) / 100.0
      expect(ev.metrics['IoU.a']).toBe(66.67 / 100);
      expect(ev.metrics['IoU.b']).toBe(66.67 / 100);
      expect(ev.metrics['Acc.a']).toBe(66.67 / 100);
      expect(ev.metrics['Acc.b']).toBe(1);
      expect(ev.metrics.mIoU).toBe(66.67 / 100);
      expect(segTableFromMetrics(ev.metrics)).toContain('| 66.67 | 83.33 |');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
