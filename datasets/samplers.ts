/**
 * Batch samplers of mmdetection 2.28 (mmdet/datasets/samplers/group_sampler.py), as index orders:
 * - aspect-ratio flags (CustomDataset._set_group_flag): 1 when width / height > 1, else 0, from the
 *   annotation's image size (no decoding);
 * - GroupSampler (non-distributed shuffled training): each flag group shuffled, padded with random
 *   picks from itself to a multiple of samples_per_gpu, groups concatenated, then the batches
 *   (samples_per_gpu slices) shuffled: every batch holds one orientation; epoch length
 *   sum_g ceil(|g| / samples_per_gpu) * samples_per_gpu;
 * - DistributedGroupSampler: each group permuted and padded by repeating itself (whole copies, then
 *   a prefix) to a multiple of samples_per_gpu * num_replicas, batches shuffled, then rank r takes
 *   the r-th contiguous slice of num_samples = sum_g ceil(|g| / samples_per_gpu / replicas) * samples_per_gpu.
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

/** Number of samples one replica of DistributedGroupSampler yields per epoch. */
export function distributedGroupSamplerLength(flags: ArrayLike<number>, samplesPerGpu: number, numReplicas: number): number {
  return groupsOf(flags).reduce((n, g) => n + Math.ceil(g.length / samplesPerGpu / numReplicas) * samplesPerGpu, 0);
}

/**
 * mmdet DistributedGroupSampler.__iter__ for `rank` of `numReplicas`: `rng` must be seeded the same
 * on every rank (mmdet: torch.Generator seeded with epoch + seed) so the ranks split one order.
 */
export function distributedGroupSamplerIndices(flags: ArrayLike<number>, samplesPerGpu: number, numReplicas: number, rank: number, rng: Rng): Int32Array {
  if (!(rank >= 0 && rank < numReplicas)) throw new RangeError(`DistributedGroupSampler: rank ${rank} outside 0..${numReplicas - 1}`);
  const all: number[] = [];
  for (const group of groupsOf(flags)) {
    const perm = rng.permutation(group.length);
    const g = Array.from(perm, (p) => group[p]);
    const extra = Math.ceil(group.length / samplesPerGpu / numReplicas) * samplesPerGpu * numReplicas - g.length;
    const tmp = g.slice();
    for (let k = 0; k < Math.floor(extra / tmp.length); k++) g.push(...tmp);
    g.push(...tmp.slice(0, extra % tmp.length));
    all.push(...g);
  }
  const order = shuffleBatches(all, samplesPerGpu, rng);
  const per = distributedGroupSamplerLength(flags, samplesPerGpu, numReplicas);
  return order.slice(per * rank, per * (rank + 1));
}
