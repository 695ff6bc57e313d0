// Samplers that shard each epoch across the ranks of a data-parallel job, as torch's
// DistributedSampler and mmdet's DistributedGroupSampler (mmdet/datasets/samplers/*.py) do.
// Both start from the single-process epoch order (datasets/loader.ts epochOrder), so the same seed
// and epoch give the same global order on every rank and in a one-process run.
import type { IndexSampler } from '../../core/registry';
import { Rng } from '../../core/rng';
import { epochOrder } from '../../datasets/loader';

export interface ShardOptions {
  rank: number;
  worldSize: number;
  shuffle: boolean;
  seed: number;
}

function checkShard(o: ShardOptions): void {
  if (!(Number.isInteger(o.worldSize) && o.worldSize >= 1 && Number.isInteger(o.rank) && o.rank >= 0 && o.rank < o.worldSize)) {
    throw new RangeError(`sampler: rank ${o.rank} of world size ${o.worldSize} is not valid`);
  }
}

/**
 * torch.utils.data.DistributedSampler: the epoch's global order (a permutation of (seed, epoch) when
 * shuffling, else 0..n-1) padded with its own head to a multiple of worldSize, and rank r takes
 * positions r, r + N, r + 2N, ... So batch b of rank r with samples_per_gpu B holds global positions
 * N·B·b + r + N·k (k < B): the N ranks' batch b together are the one-process batch b of size N·B.
 */
export class DistributedSampler implements IndexSampler {
  readonly length: number;
  readonly totalSize: number;
  constructor(
    readonly datasetLength: number,
    readonly opts: ShardOptions,
  ) {
    checkShard(opts);
    this.length = Math.ceil(datasetLength / opts.worldSize);
    this.totalSize = this.length * opts.worldSize;
  }

  indices(epoch: number): Int32Array {
    const n = this.datasetLength;
    const order = epochOrder(n, this.opts.shuffle, this.opts.seed, epoch);
    const out = new Int32Array(this.length);
    for (let k = 0; k < this.length; k++) out[k] = order[(this.opts.rank + k * this.opts.worldSize) % n];
    return out;
  }
}

/**
 * The grouped epoch order shared by GroupSampler (worldSize 1) and DistributedGroupSampler: the
 * indices of each aspect-ratio group are shuffled, padded by repeating the group to a multiple of
 * samplesPerGpu·worldSize, concatenated, cut into chunks of samplesPerGpu, and the chunks shuffled;
 * so every batch holds one group only. Rank r then takes the r-th contiguous slice of
 * length/worldSize. Randomness: Rng(seed, epoch) (mmdet: torch.Generator seeded with seed + epoch).
 * Returns the full grouped order (length = sum of padded group sizes).
 */
export function groupedOrder(flags: Uint8Array, samplesPerGpu: number, worldSize: number, seed: number, epoch: number): Int32Array {
  const rng = new Rng(Rng.derive(seed, epoch, 0x6a0b));
  const groups = new Map<number, number[]>();
  flags.forEach((f, i) => {
    if (!groups.has(f)) groups.set(f, []);
    groups.get(f)!.push(i);
  });
  const unit = samplesPerGpu * worldSize;
  const all: number[] = [];
  for (const g of [...groups.keys()].sort((a, b) => a - b)) {
    const members = groups.get(g)!;
    const perm = rng.permutation(members.length);
    const shuffled = Array.from(perm, (p) => members[p]);
    const padded = Math.ceil(shuffled.length / unit) * unit;
    for (let k = 0; k < padded; k++) all.push(shuffled[k % shuffled.length]);
  }
  const chunks = all.length / samplesPerGpu;
  const chunkOrder = rng.permutation(chunks);
  const out = new Int32Array(all.length);
  let o = 0;
  for (const c of chunkOrder) for (let j = 0; j < samplesPerGpu; j++) out[o++] = all[c * samplesPerGpu + j];
  return out;
}

/** mmdet DistributedGroupSampler: each rank's contiguous share of groupedOrder (whole one-group batches). */
export class DistributedGroupSampler implements IndexSampler {
  readonly length: number;
  constructor(
    readonly flags: Uint8Array,
    readonly samplesPerGpu: number,
    readonly opts: Omit<ShardOptions, 'shuffle'>,
  ) {
    checkShard({ ...opts, shuffle: true });
    const unit = samplesPerGpu * opts.worldSize;
    let total = 0;
    const counts = new Map<number, number>();
    flags.forEach((f) => counts.set(f, (counts.get(f) ?? 0) + 1));
    for (const c of counts.values()) total += Math.ceil(c / unit) * unit;
    this.length = total / opts.worldSize;
  }

  indices(epoch: number): Int32Array {
    const all = groupedOrder(this.flags, this.samplesPerGpu, this.opts.worldSize, this.opts.seed, epoch);
    return all.slice(this.opts.rank * this.length, (this.opts.rank + 1) * this.length);
  }
}
