/**
 * Batch samplers of mmdetection 2.28 (mmdet/datasets/samplers/group_sampler.py), as index orders:
 * - aspect-ratio flags (CustomDataset._set_group_flag): 1 when width / height > 1, else 0, from the
 *   annotation's image size (no decoding);
 * - GroupSampler (non-distributed shuffled training): each flag group shuffled, padded with random
 *   picks from itself to a multiple of samples_per_gpu, groups concatenated, then the batches
 *   (samples_per_gpu slices) shuffled: every batch holds one orientation; epoch length
 *   sum_g ceil(|g| / samples_per_gpu) * samples_per_gpu;
 * - DistributedGroupSampler (data-parallel runs) lives in engine/dist/sampler.ts and reaches the
 *   DataLoader as its `sampler` option.
 * The rules (lengths, grouping, padding, order of operations) are mmdet's; the random numbers come
 * from our seeded Rng, not numpy/torch, so the concrete permutation differs from a PyTorch run.
 */
import type { Rng } from '../core/rng';
import type { RawDataset } from './base';

/** mmdet's group flag per sample (1 = landscape, w/h > 1), or null when a sample has no known size. */
export function aspectRatioFlags(dataset: RawDataset): Uint8Array | null {
  const flags = new Uint8Array(dataset.length);
  for (let i = 0; i < dataset.length; i++) {
    const r = dataset.raw(i);
    if (!r.width || !r.height) return null;
    flags[i] = r.width / r.height > 1 ? 1 : 0;
  }
  return flags;
}

function groupsOf(flags: ArrayLike<number>): number[][] {
  const groups: number[][] = [];
  for (let i = 0; i < flags.length; i++) (groups[flags[i]] ??= []).push(i);
  return groups.filter((g) => g && g.length > 0);
}

/** Number of samples GroupSampler yields per epoch. */
export function groupSamplerLength(flags: ArrayLike<number>, samplesPerGpu: number): number {
  return groupsOf(flags).reduce((n, g) => n + Math.ceil(g.length / samplesPerGpu) * samplesPerGpu, 0);
}

function shuffleInPlace(a: number[], rng: Rng): void {
  const p = rng.permutation(a.length);
  const copy = a.slice();
  for (let i = 0; i < a.length; i++) a[i] = copy[p[i]];
}

/** Shuffles whole batches (consecutive slices of `size`). */
function shuffleBatches(indices: number[], size: number, rng: Rng): Int32Array {
  const nb = Math.floor(indices.length / size);
  const perm = rng.permutation(nb);
  const out = new Int32Array(nb * size);
  for (let b = 0; b < nb; b++) for (let j = 0; j < size; j++) out[b * size + j] = indices[perm[b] * size + j];
  return out;
}

/** mmdet GroupSampler.__iter__: the epoch's sample indices (length groupSamplerLength). */
export function groupSamplerIndices(flags: ArrayLike<number>, samplesPerGpu: number, rng: Rng): Int32Array {
  const all: number[] = [];
  for (const group of groupsOf(flags)) {
    const g = group.slice();
    shuffleInPlace(g, rng);
    const extra = Math.ceil(g.length / samplesPerGpu) * samplesPerGpu - g.length;
    // np.random.choice(indice, num_extra): drawn with replacement from the group itself.
    const base = g.slice();
    for (let k = 0; k < extra; k++) g.push(base[rng.int(0, base.length)]);
    all.push(...g);
  }
  return shuffleBatches(all, samplesPerGpu, rng);
}
