import type { Rng } from '../../core/rng';
import type { PipelineState } from '../types';

/** One pipeline step. `rng` is the sample's own stream (seeded from seed, epoch, index). */
export interface Transform {
  readonly type: string;
  apply(s: PipelineState, rng: Rng): PipelineState | Promise<PipelineState>;
}

/** Fails with a clear message when a transform runs before the one it needs. */
export function need<T>(v: T | undefined, transform: string, what: string, file: string): T {
  if (v === undefined) throw new Error(`${transform}: no ${what} for ${file} (put LoadImageFromFile/LoadAnnotations before it)`);
  return v;
}
