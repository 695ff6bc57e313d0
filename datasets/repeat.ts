/** RepeatDataset: `times` passes over a dataset per epoch (avoids per-epoch loader restarts, mmdet#5237). */
import { type Infer, type Schema, s } from '../core/config_schema';
import type { RawDataset } from './base';
import type { RawSample } from './types';

/**
 * RepeatDataset's fields. `dataset` is any dataset config, checked with the schema the caller gives:
 * build.ts's union of the types buildDataset builds, or the DATASETS registry's union of every type.
 */
export const repeatDatasetSchema = <D extends Schema>(dataset: D) => s.object({ times: s.int({ min: 1 }).describedAs('passes per epoch'), dataset });
export interface RepeatDatasetConfig<D = unknown> extends Omit<Infer<ReturnType<typeof repeatDatasetSchema>>, 'dataset'> {
  type: 'RepeatDataset';
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
