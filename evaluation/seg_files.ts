// mIoU over two folders of PNG label maps matched by file name.

import { readdirSync } from '#platform/fs';
import { join } from '#platform/path';
import { EvalInputError } from './errors';
import { readLabelPng } from './label_png';
import { IoUAccumulator, type IoUAccumulatorOptions, type SegMetrics } from './miou';

/** Every *.png in gtDir must have a prediction of the same name and size in predDir. */
export function evaluateLabelDirs(gtDir: string, predDir: string, opts: IoUAccumulatorOptions): { metrics: SegMetrics; acc: IoUAccumulator } {
  const list = (dir: string) => {
    try {
      return readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.png')).sort();
    } catch (e) {
      throw new EvalInputError(`${dir}: cannot read directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  const gtFiles = list(gtDir);
  if (gtFiles.length === 0) throw new EvalInputError(`${gtDir}: no .png label maps found`);
  const predFiles = new Set(list(predDir));
  const acc = new IoUAccumulator(opts);
  for (const f of gtFiles) {
    const gtPath = join(gtDir, f);
    const predPath = join(predDir, f);
    if (!predFiles.has(f)) throw new EvalInputError(`${predPath}: missing prediction for ${gtPath}`);
    const gt = readLabelPng(gtPath);
    const pred = readLabelPng(predPath);
    if (gt.width !== pred.width || gt.height !== pred.height) {
      throw new EvalInputError(
        `size mismatch: ${gtPath} is ${gt.width}x${gt.height} but ${predPath} is ${pred.width}x${pred.height} (width x height)`,
      );
    }
    acc.add(pred.data, gt.data);
  }
  return { metrics: acc.metrics(), acc };
}
