// Text/JSON logging every `log_config.interval` iterations, with values averaged over the interval
// (as mmcv's LogBuffer), timing, ETA and memory.
import * as tf from '@tensorflow/tfjs';
import { formatDuration } from '../log_writer';
import type { Runner } from '../runner';
import type { Hook, IterOutputs } from './hook';

export class LoggerHook implements Hook {
  readonly name = 'LoggerHook';
  private window: IterOutputs[] = [];
  private startTime = 0;
  private startIter = 0;

  constructor(readonly interval: number) {}

  beforeRun(runner: Runner): void {
    this.startTime = performance.now();
    this.startIter = runner.iter;
  }

  afterIter(runner: Runner, out: IterOutputs): void {
    this.window.push(out);
    const elapsed = (performance.now() - this.startTime) / 1000;
    const done = runner.iter - this.startIter;
    const eta = (elapsed / Math.max(done, 1)) * (runner.maxIters - runner.iter);
    runner.log.progress(runner.iter, runner.maxIters, `eta ${formatDuration(eta)} loss ${out.values.loss?.toFixed(4) ?? '?'}`);
    if (runner.iter % this.interval !== 0 && runner.iter !== runner.maxIters) return;
    const n = this.window.length;
    const mean = (f: (o: IterOutputs) => number) => this.window.reduce((a, o) => a + f(o), 0) / n;
    const keys = Object.keys(out.values);
    const avg: Record<string, number> = {};
    for (const k of keys) avg[k] = mean((o) => o.values[k] ?? NaN);
    const time = mean((o) => o.time);
    const dataTime = mean((o) => o.dataTime);
    const mem = tf.memory();
    const memoryMb = Math.round(mem.numBytes / 2 ** 20);
    const where = runner.byEpoch ? `Epoch [${runner.epoch + 1}][${runner.innerIter}/${runner.itersPerEpoch}]` : `Iter [${runner.iter}/${runner.maxIters}]`;
    const terms = keys.map((k) => `${k}: ${avg[k].toFixed(4)}`).join(', ');
    runner.log.info(
      `${where}\tlr: ${out.lr.toExponential(3)}, eta: ${formatDuration(eta)}, time: ${time.toFixed(3)}, data_time: ${dataTime.toFixed(3)}, memory: ${memoryMb}, tensors: ${mem.numTensors}, ${terms}`,
    );
    runner.log.json({
      mode: 'train',
      epoch: runner.epoch + 1,
      iter: runner.byEpoch ? runner.innerIter : runner.iter,
      global_iter: runner.iter,
      lr: out.lr,
      time,
      data_time: dataTime,
      memory: memoryMb,
      num_tensors: mem.numTensors,
      ...avg,
    });
    this.window = [];
  }
}
