/**
 * DataLoader: batches of a RawDataset, decoded and augmented ahead of the consumer
 * in worker threads (workers=0: in this thread). Every sample's randomness comes from
 * Rng.derive(seed, epoch, index), and the shuffle from (seed, epoch), so batches are
 * identical whatever the number of workers. Workers persist across epochs.
 */
import { spawnWorker, type Worker } from '#platform/worker';
import { Rng } from '../core/rng';
import type { IndexSampler, DataLoader as LoaderContract } from '../core/registry';
import type { RawDataset } from './base';
import { runBatch, type WorkerReply, type WorkerTask } from './batch_task';
import { DatasetError } from './errors';
import { buildPipeline, type Pipeline } from './pipeline';
import { aspectRatioFlags, groupSamplerIndices, groupSamplerLength } from './samplers';
import type { Batch } from './types';

export interface DataLoaderOptions {
  batchSize: number;
  workers: number;
  shuffle: boolean;
  seed: number;
  dropLast?: boolean;
  /** Indices of each epoch from a sampler (e.g. a rank's shard, engine/dist/sampler.ts) instead of the own order. */
  sampler?: IndexSampler;
  /** Batches decoded ahead of the consumer (default: 2 per worker, at least 2). */
  prefetch?: number;
  sizeDivisor?: number; // collate padding, default 32
  /** Drop samples whose files are bad (logged, counted in `skipped`) instead of failing. */
  skipBad?: boolean;
  log?: (line: string) => void;
  /**
   * Without a `sampler`: group batches by aspect ratio as mmdet's GroupSampler (datasets/samplers.ts).
   * Default: on for shuffled detection datasets whose samples carry their image size (mmdet's
   * build_dataloader), off otherwise (mmseg does not group). Distributed runs pass engine/dist's
   * DistributedGroupSampler as `sampler` instead.
   */
  groupByAspectRatio?: boolean;
}

function rethrow(reply: WorkerReply): never {
  const e = reply.error!;
  if (e.name === 'DatasetError' && e.file !== undefined) throw new DatasetError(e.file, e.problem ?? e.message);
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  throw err;
}

/**
 * The sample order of one epoch: 0..n-1, or when shuffling a permutation derived from (seed, epoch)
 * only. The distributed samplers (engine/dist/sampler.ts) shard this same global order.
 */
export function epochOrder(n: number, shuffle: boolean, seed: number, epoch: number): Int32Array {
  if (!shuffle) return Int32Array.from({ length: n }, (_, i) => i);
  return new Rng(Rng.derive(seed, epoch, 0x5eed)).permutation(n);
}

export class DataLoader implements LoaderContract<Batch> {
  private epoch = 0;
  private start = 0;
  private workers: Worker[] = [];
  private pipeline: Pipeline;
  private pending = new Map<number, (r: WorkerReply) => void>();
  private nextId = 0;
  /** Samples dropped for bad data so far (skipBad). */
  skipped = 0;

  constructor(
    readonly dataset: RawDataset,
    readonly opts: DataLoaderOptions,
  ) {
    this.pipeline = buildPipeline(dataset.pipelineCfg as unknown[]);
    if (!(opts.batchSize >= 1)) throw new RangeError('DataLoader: batchSize must be >= 1');
    const group = !opts.sampler && (opts.groupByAspectRatio ?? (opts.shuffle && dataset.task === 'det'));
    if (group) {
      this.flags = aspectRatioFlags(dataset);
      if (!this.flags && opts.groupByAspectRatio) throw new RangeError('DataLoader: groupByAspectRatio needs every sample\'s image size in the dataset');
    }
  }

  /** mmdet group flags (1 = landscape) when batches are grouped by aspect ratio, else null. */
  readonly flags: Uint8Array | null = null;

  /** Samples per epoch: the sampler's, the grouped sampler's padded length, or the dataset size. */
  get numSamples(): number {
    if (this.opts.sampler) return this.opts.sampler.length;
    return this.flags ? groupSamplerLength(this.flags, this.opts.batchSize) : this.dataset.length;
  }

  get length(): number {
    const n = this.numSamples;
    return this.opts.dropLast ? Math.floor(n / this.opts.batchSize) : Math.ceil(n / this.opts.batchSize);
  }

  setEpoch(epoch: number): void {
    this.epoch = epoch;
    // A seek (startAt) applies to one epoch only.
    this.start = 0;
  }

  startAt(index: number): void {
    this.start = index;
  }

  /** Sample indices of this epoch, in order (grouped samplers repeat some indices to fill batches). */
  order(): Int32Array {
    // A given sampler (a rank's shard, engine/dist/sampler.ts) decides; else mmdet's GroupSampler for
    // shuffled detection data; else the plain (shuffled) order.
    if (this.opts.sampler) return this.opts.sampler.indices(this.epoch);
    if (this.flags) return groupSamplerIndices(this.flags, this.opts.batchSize, new Rng(Rng.derive(this.opts.seed, this.epoch, 0x5eed)));
    return epochOrder(this.dataset.length, this.opts.shuffle, this.opts.seed, this.epoch);
  }

  /** How many times each position's index already appeared earlier in `order` (0 for first use). */
  private static repeats(order: Int32Array): Int32Array {
    const count = new Map<number, number>();
    return Int32Array.from(order, (i) => {
      const k = count.get(i) ?? 0;
      count.set(i, k + 1);
      return k;
    });
  }

  private task(order: Int32Array, b: number, repeats: Int32Array): WorkerTask {
    const bs = this.opts.batchSize;
    const start = b * bs;
    const idx = Array.from(order.subarray(start, Math.min((b + 1) * bs, order.length)));
    // A sample's randomness is keyed by its index; a repeat within the epoch (grouped sampler
    // padding) gets its own key, so it is augmented independently as in mmdet.
    const n = this.dataset.length;
    return {
      id: this.nextId++,
      raws: idx.map((i) => this.dataset.raw(i)),
      seeds: idx.map((i, j) => Rng.derive(this.opts.seed, this.epoch, i + repeats[start + j] * n)),
    };
  }

  private ensureWorkers(): void {
    if (this.workers.length === this.opts.workers) return;
    const data = { pipeline: this.dataset.pipelineCfg, sizeDivisor: this.opts.sizeDivisor ?? 32, skipBad: !!this.opts.skipBad };
    for (let i = this.workers.length; i < this.opts.workers; i++) {
      const w = spawnWorker(data);
      w.on('message', (r: WorkerReply) => {
        const cb = this.pending.get(r.id);
        this.pending.delete(r.id);
        this.refWorkers();
        cb?.(r);
      });
      w.on('error', (e) => {
        for (const cb of this.pending.values()) cb({ id: -1, skipped: [], error: { name: e.name, message: `loader worker failed: ${e.message}`, stack: e.stack } });
        this.pending.clear();
        this.refWorkers();
      });
      this.workers.push(w);
    }
    this.refWorkers();
  }

  /** Workers keep the process alive only while work is outstanding (an idle loader must not). */
  private refWorkers(): void {
    for (const w of this.workers) this.pending.size ? w.ref() : w.unref();
  }

  private submit(task: WorkerTask, slot: number): Promise<WorkerReply> {
    if (this.opts.workers === 0) return runBatch(this.pipeline, task, this.opts.sizeDivisor ?? 32, !!this.opts.skipBad);
    return new Promise((resolve) => {
      this.pending.set(task.id, resolve);
      this.refWorkers();
      this.workers[slot % this.workers.length].postMessage(task);
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    const order = this.order();
    const repeats = DataLoader.repeats(order);
    const total = this.length;
    const first = this.start;
    this.start = 0;
    if (this.opts.workers > 0) this.ensureWorkers();
    const ahead = Math.max(this.opts.prefetch ?? 2 * this.opts.workers, this.opts.workers > 0 ? 1 : 0, 1);
    const queue: Promise<WorkerReply>[] = [];
    let next = first;
    const fill = () => {
      while (queue.length < ahead && next < total) {
        queue.push(this.submit(this.task(order, next, repeats), next));
        next++;
      }
    };
    fill();
    const skippedBefore = this.skipped;
    while (queue.length) {
      const reply = await queue.shift()!;
      fill();
      if (reply.error) rethrow(reply);
      for (const line of reply.skipped) (this.opts.log ?? console.warn)(`skipped bad sample: ${line}`);
      this.skipped += reply.skipped.length;
      if (reply.batch) yield reply.batch;
    }
    const n = this.skipped - skippedBefore;
    if (n > 0) (this.opts.log ?? console.warn)(`skipped ${n} bad sample${n > 1 ? 's' : ''} this epoch`);
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
