/** What every dataset offers the loader: a length, its classes and cheap serialisable raw samples. */
import { isAbsolute, join } from '#platform/path';
import type { RawSample } from './types';

export interface RawDataset {
  readonly length: number;
  readonly task: 'det' | 'seg';
  readonly classes: readonly string[];
  /** Transform configs the samples go through (validated when the dataset is built). */
  readonly pipelineCfg: readonly unknown[];
  raw(index: number): RawSample;
}

/** Resolves a config path against the data root (absolute paths stay as they are). */
export function resolvePath(root: string | undefined, p: string): string {
  if (isAbsolute(p) || !root) return p;
  return join(root, p);
}
