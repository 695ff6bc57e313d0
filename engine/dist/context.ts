// What the runner needs from a data-parallel job (mmcv's MMDistributedDataParallel + mmdet's
// multi_gpu_test), on top of a Communicator (engine/dist/mpi.ts). The runner calls it through a few
// optional hooks; without it (one process) nothing here runs.
import { serialize, deserialize } from 'node:v8';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../core/errors';
import type { BuiltDataset, DataLoader, EvaluationReport, Evaluator, IndexSampler, TrainableModel } from '../../core/registry';
import type { Module } from '../../nn/module';
import { disposeBatch } from '../evaluate';
import type { Communicator } from './mpi';
import { DistributedGroupSampler, DistributedSampler } from './sampler';
import { setSyncBnGroup } from '../../nn/sync_bn';

export class DistContext {
  constructor(readonly comm: Communicator) {}

  get rank(): number {
    return this.comm.rank;
  }
  get worldSize(): number {
    return this.comm.size;
  }
  /** Rank 0 writes logs, checkpoints and config.json (mmcv master_only). */
  get isMain(): boolean {
    return this.comm.rank === 0;
  }

  /** Makes SyncBN layers all-reduce their batch statistics over this job. */
  enableSyncBn(): void {
    setSyncBnGroup(this.comm.size > 1 ? { size: this.comm.size, allreduceSumSync: (b) => this.comm.allreduceSumSync(b) } : null);
  }

  /**
   * This rank's training sampler: DistributedGroupSampler when the dataset has aspect-ratio groups
   * (detection, as mmdet's build_dataloader with shuffle), else DistributedSampler with shuffle.
   */
  trainSampler(data: BuiltDataset, seed: number, samplesPerGpu: number): IndexSampler {
    const shard = { rank: this.rank, worldSize: this.worldSize, seed };
    if (data.groupFlags) return new DistributedGroupSampler(data.groupFlags(), samplesPerGpu, shard);
    return new DistributedSampler(data.length, { ...shard, shuffle: true });
  }

  /**
   * Averages gradients (and the logged loss values) over the ranks: one flat fp32 all-reduce, as
   * DDP's bucketed all-reduce followed by division by world size. Takes ownership of `grads` and
   * `logVec` (disposed) and returns new tensors of the same shapes. The flat buffer is read back to
   * the host because MPI works on host memory here (no CUDA-aware path from WebGPU buffers).
   */
  async averageGradients(grads: Record<string, tf.Tensor>, logVec: tf.Tensor1D): Promise<{ g: Record<string, tf.Tensor>; logVec: tf.Tensor1D }> {
    const names = Object.keys(grads);
    const flatT = tf.tidy(() => tf.concat([...names.map((k) => tf.reshape(grads[k], [-1])), logVec]));
    let flat: Float32Array;
    try {
      flat = (await flatT.data()) as Float32Array;
    } finally {
      flatT.dispose();
      tf.dispose(grads);
      logVec.dispose();
    }
    await this.comm.allreduceSum(flat);
    const inv = 1 / this.worldSize;
    for (let i = 0; i < flat.length; i++) flat[i] *= inv;
    const out: Record<string, tf.Tensor> = {};
    let off = 0;
    for (const k of names) {
      const g = grads[k];
      out[k] = tf.tensor(flat.subarray(off, off + g.size), g.shape, 'float32');
      off += g.size;
    }
    return { g: out, logVec: tf.tensor1d(flat.subarray(off)) };
  }

  /**
   * Copies rank 0's parameters and buffers to every rank (DDP's module-state broadcast at wrap
   * time), so every rank starts identical even when initialisation or resume differed.
   */
  async broadcastModule(module: Module): Promise<void> {
    const slots = module.namedSlots();
    const floats = slots.filter(([, s]) => s.variable.dtype === 'float32');
    const ints = slots.filter(([, s]) => s.variable.dtype !== 'float32');
    const pack = async (list: typeof slots, ctor: Float32ArrayConstructor | Int32ArrayConstructor) => {
      const total = list.reduce((a, [, s]) => a + s.variable.size, 0);
      const buf = new ctor(total);
      let off = 0;
      for (const [, s] of list) {
        buf.set((await s.variable.data()) as Float32Array & Int32Array, off);
        off += s.variable.size;
      }
      await this.comm.bcast(buf, 0);
      off = 0;
      for (const [, s] of list) {
        const v = s.variable;
        const t = tf.tensor(buf.subarray(off, off + v.size), v.shape, v.dtype);
        v.assign(t);
        t.dispose();
        off += v.size;
      }
    };
    await pack(floats, Float32Array);
    await pack(ints, Int32Array);
  }

  /** Sends rank 0's JSON value to every rank. */
  async broadcastJson<T>(value: T): Promise<T> {
    const bytes = this.isMain ? new TextEncoder().encode(JSON.stringify(value ?? null)) : new Uint8Array(0);
    const len = Int32Array.of(bytes.length);
    await this.comm.bcast(len, 0);
    const buf = this.isMain ? bytes : new Uint8Array(len[0]);
    await this.comm.bcast(buf, 0);
    return JSON.parse(new TextDecoder().decode(buf)) as T;
  }

  /**
   * Distributed evaluation (mmdet multi_gpu_test + collect_results, detectron2's inference_on_dataset
   * with gathered predictions): rank r predicts the samples r, r + N, ... (DistributedSampler without
   * shuffle, padded to a multiple of N); rank 0 gathers them, restores dataset order, drops the
   * padding and feeds them one sample at a time to `evaluator` (which checks the order), and the
   * metrics are sent to every rank. Predictions and batch `metas` must be structured-clonable (plain
   * numbers, arrays, typed arrays), as the models' results are.
   */
  async evaluate<B, R>(model: TrainableModel<B, R>, dataset: BuiltDataset, evaluator: Evaluator<B, R>, opts: { workers?: number } = {}): Promise<Record<string, number>> {
    const report = await this.evaluateReport(model, dataset, evaluator, opts);
    return this.broadcastJson(report?.metrics ?? null) as Promise<Record<string, number>>;
  }

  /** As `evaluate`, but the evaluator's whole report on rank 0 (tools/eval prints it) and null elsewhere. */
  async evaluateReport<B, R>(model: TrainableModel<B, R>, dataset: BuiltDataset, evaluator: Evaluator<B, R>, opts: { workers?: number } = {}): Promise<EvaluationReport | null> {
    const gathered = await this.predictAll(model, dataset, opts);
    if (!gathered) return null;
    evaluator.reset();
    for (const { out, meta } of gathered) await evaluator.process({ metas: [meta] } as B, [out]);
    return evaluator.evaluate();
  }

  /**
   * Every sample's prediction (and its batch meta, when batches carry `metas`), gathered on rank 0 in
   * dataset order; null on other ranks.
   */
  async predictAll<B, R>(model: TrainableModel<B, R>, dataset: BuiltDataset, opts: { workers?: number } = {}): Promise<{ out: R; meta: unknown }[] | null> {
    if (!model.predict) throw new UserError('the model does not implement predict(); it cannot be evaluated');
    const sampler = new DistributedSampler(dataset.length, { rank: this.rank, worldSize: this.worldSize, shuffle: false, seed: 0 });
    const local: { out: R; meta: unknown }[] = [];
    const wasTraining = model.module.training;
    model.module.eval();
    try {
      const loader = dataset.loader({ batchSize: 1, workers: opts.workers ?? 0, shuffle: false, seed: 0, sampler }) as DataLoader<B>;
      loader.setEpoch(0);
      for await (const batch of loader) {
        try {
          const outs = await model.predict(batch);
          const metas = (batch as { metas?: readonly unknown[] }).metas;
          outs.forEach((out, i) => local.push({ out, meta: metas?.[i] }));
        } finally {
          disposeBatch(batch);
        }
      }
    } finally {
      model.module.train(wasTraining);
    }
    const parts = await this.comm.gatherBytes(new Uint8Array(serialize(local)), 0);
    if (!parts) return null;
    const perRank = parts.map((p) => deserialize(Buffer.from(p.buffer, p.byteOffset, p.byteLength)) as { out: R; meta: unknown }[]);
    return interleaveResults(perRank, dataset.length);
  }
}

/**
 * Inverts DistributedSampler(shuffle=false): rank r's k-th result is dataset sample r + k·N; the
 * padding at the end (repeats of the first samples) is dropped.
 */
export function interleaveResults<R>(perRank: R[][], datasetLength: number): R[] {
  const n = perRank.length;
  const out: R[] = [];
  for (let i = 0; i < datasetLength; i++) {
    const part = perRank[i % n];
    const k = Math.floor(i / n);
    if (k >= part.length) throw new Error(`distributed evaluation: rank ${i % n} returned ${part.length} results, expected at least ${k + 1}`);
    out.push(part[k]);
  }
  return out;
}
