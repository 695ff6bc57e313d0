/** RepeatDataset: `times` passes over a dataset per epoch (avoids per-epoch loader restarts, mmdet#5237). */
import type { RawDataset } from './base';
import type { RawSample } from './types';

export interface RepeatDatasetConfig<D = unknown> {
  type: 'RepeatDataset';
  times: number;
  dataset: D;
}

export class RepeatDataset implements RawDataset {
  constructor(
    readonly inner: RawDataset,
    readonly times: number,
  ) {}
  get task() {
    return this.inner.task;
  }
  get classes() {
    return this.inner.classes;
  }
  get pipelineCfg() {
    return this.inner.pipelineCfg;
  }
  get length(): number {
    return this.inner.length * this.times;
  }
  raw(index: number): RawSample {
    return { ...this.inner.raw(index % this.inner.length), index };
  }
}
