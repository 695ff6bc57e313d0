// A small real model and dataset for engine tests: a 2-conv + BN + linear classifier on generated
// 8x8 images whose class is the brightest quadrant. Registered explicitly by `registerToy()`.
import * as tf from '@tensorflow/tfjs';
import { s } from '../../core/config_schema';
import { writeFileSync } from 'node:fs';
import { UserError } from '../../core/errors';
import { type BuiltDataset, DATASETS, type DataLoader, type EvaluationReport, type Evaluator, EVALUATORS, type LoaderOptions, MODELS, type TrainableModel } from '../../core/registry';
import { BatchNorm2d, Conv2d, Linear } from '../../nn/layers';
import { SyncBatchNorm2d } from '../../nn/sync_bn';
import { Module } from '../../nn/module';

export class ToyNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly fc: Linear;
  constructor(width: number, numClasses: number, norm: 'BN' | 'SyncBN' = 'BN') {
    super();
    const Norm = norm === 'SyncBN' ? SyncBatchNorm2d : BatchNorm2d;
    this.conv1 = this.child('conv1', new Conv2d(3, width, 3, { padding: 1, bias: false }));
    this.bn1 = this.child('bn1', new Norm(width));
    this.conv2 = this.child('conv2', new Conv2d(width, 2 * width, 3, { stride: 2, padding: 1, bias: false }));
    this.bn2 = this.child('bn2', new Norm(2 * width));
    this.fc = this.child('fc', new Linear(2 * width, numClasses));
  }
  forward(x: tf.Tensor4D): tf.Tensor2D {
    const h1 = tf.relu(this.bn1.forward(this.conv1.forward(x)));
    const h2 = tf.relu(this.bn2.forward(this.conv2.forward(h1)));
    return this.fc.forward(tf.mean(h2, [1, 2])) as tf.Tensor2D;
  }
}

export interface ToyBatch {
  images: tf.Tensor4D;
  labels: tf.Tensor1D;
}

export class ToyClassifier implements TrainableModel<ToyBatch, number> {
  readonly module: ToyNet;
  private calls = 0;
  constructor(
    width: number,
    readonly numClasses: number,
    /** Test hook: the loss becomes NaN from this forward call on (1-based); 0 disables. */
    readonly nanFromIter = 0,
    norm: 'BN' | 'SyncBN' = 'BN',
    /** Test hook: the input images become NaN from this forward call on (BN statistics turn NaN); 0 disables. */
    readonly nanInputFromIter = 0,
  ) {
    this.module = new ToyNet(width, numClasses, norm);
  }
  forwardTrain(batch: ToyBatch): Record<string, tf.Scalar> {
    this.calls++;
    const images = this.nanInputFromIter > 0 && this.calls >= this.nanInputFromIter ? tf.mul(batch.images, NaN) : batch.images;
    const logits = this.module.forward(images as tf.Tensor4D);
    const onehot = tf.oneHot(batch.labels, this.numClasses);
    let loss = tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
    if (this.nanFromIter > 0 && this.calls >= this.nanFromIter) loss = tf.mul(loss, NaN) as tf.Scalar;
    const acc = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), batch.labels), 'float32')) as tf.Scalar;
    return { loss_cls: loss, acc };
  }
  predict(batch: ToyBatch): number[] {
    const pred = tf.tidy(() => tf.argMax(this.module.forward(batch.images), 1));
    const out = Array.from(pred.dataSync());
    pred.dispose();
    return out;
  }
}

/** mulberry32, local to the test helpers so the tests do not depend on other modules' generators. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class ToyDataset implements BuiltDataset<ToyBatch> {
  readonly evaluator = 'ToyAccuracyEvaluator';
  readonly images: Float32Array;
  readonly labels: Int32Array;
  constructor(
    readonly length: number,
    readonly size: number,
    seed: number,
  ) {
    const r = rng(seed);
    const hw = size * size;
    this.images = new Float32Array(length * hw * 3);
    this.labels = new Int32Array(length);
    const half = size / 2;
    for (let n = 0; n < length; n++) {
      const cls = Math.floor(r() * 4);
      this.labels[n] = cls;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const q = (y < half ? 0 : 2) + (x < half ? 0 : 1);
          for (let c = 0; c < 3; c++) this.images[((n * size + y) * size + x) * 3 + c] = (q === cls ? 1 : 0) + 0.5 * (r() - 0.5);
        }
      }
    }
  }

  loader(opts: LoaderOptions): DataLoader<ToyBatch> {
    const ds = this;
    // A sampler (distributed training) gives the epoch's indices; else the toy's own shuffle.
    const n = opts.sampler ? opts.sampler.length : ds.length;
    const count = opts.dropLast === false ? Math.ceil(n / opts.batchSize) : Math.floor(n / opts.batchSize) || 1;
    let order: number[] = [];
    let start = 0;
    return {
      length: count,
      setEpoch(epoch: number) {
        order = [...Array(ds.length).keys()];
        if (opts.sampler) order = Array.from(opts.sampler.indices(epoch));
        else if (opts.shuffle) {
          const r = rng(opts.seed * 1000003 + epoch);
          for (let i = order.length - 1; i > 0; i--) {
            const j = Math.floor(r() * (i + 1));
            [order[i], order[j]] = [order[j], order[i]];
          }
        }
        start = 0;
      },
      startAt(index: number) {
        start = index;
      },
      async *[Symbol.asyncIterator]() {
        const hw3 = ds.size * ds.size * 3;
        for (let b = start; b < count; b++) {
          const idx = order.slice(b * opts.batchSize, (b + 1) * opts.batchSize);
          const img = new Float32Array(idx.length * hw3);
          idx.forEach((k, i) => img.set(ds.images.subarray(k * hw3, (k + 1) * hw3), i * hw3));
          yield {
            images: tf.tensor4d(img, [idx.length, ds.size, ds.size, 3]),
            labels: tf.tensor1d(Int32Array.from(idx.map((k) => ds.labels[k])), 'int32'),
          };
        }
      },
    };
  }

  /** The ground truth evaluators read. */
  get raw(): ToyDataset {
    return this;
  }
}

/** Accuracy of the predicted classes, in dataset order; --out writes {...header, metrics, results}. */
export class ToyAccuracyEvaluator implements Evaluator<ToyBatch, number> {
  private results: number[] = [];
  constructor(
    readonly dataset: ToyDataset,
    metric: readonly string[],
  ) {
    for (const m of metric) if (m !== 'accuracy') throw new UserError(`evaluation.metric '${m}' is not supported for ToyDataset (expected 'accuracy')`);
  }
  reset(): void {
    this.results = [];
  }
  process(_inputs: ToyBatch, outputs: readonly number[]): void {
    this.results.push(...outputs);
  }
  evaluate(): EvaluationReport {
    let ok = 0;
    this.results.forEach((p, i) => (ok += p === this.dataset.labels[i] ? 1 : 0));
    return { metrics: { accuracy: ok / this.results.length }, text: '' };
  }
  writeResults(out: string, header: Record<string, unknown>, report: EvaluationReport): string[] {
    writeFileSync(out, `${JSON.stringify({ ...header, metrics: report.metrics, results: this.results }, null, 1)}\n`);
    return [out];
  }
}

/** Registers ToyClassifier (MODELS), ToyDataset (DATASETS) and ToyAccuracyEvaluator (EVALUATORS); safe to call more than once. */
export function registerToy(): void {
  if (!EVALUATORS.has('ToyAccuracyEvaluator')) {
    EVALUATORS.register('ToyAccuracyEvaluator', {
      schema: s.object({ metric: s.array(s.string()).optional() }),
      build: (cfg, ctx) => new ToyAccuracyEvaluator(ctx.dataset as ToyDataset, cfg.metric ?? []),
      doc: 'test-only classification accuracy',
    });
  }
  if (!MODELS.has('ToyClassifier')) {
    MODELS.register('ToyClassifier', {
      schema: s.object({
        width: s.int({ min: 1 }),
        num_classes: s.int({ min: 2 }),
        nan_from_iter: s.int({ min: 0 }).optional(),
        norm: s.enum(['BN', 'SyncBN'] as const).optional(),
        nan_input_from_iter: s.int({ min: 0 }).optional(),
      }),
      build: (cfg) => new ToyClassifier(cfg.width, cfg.num_classes, cfg.nan_from_iter ?? 0, cfg.norm ?? 'BN', cfg.nan_input_from_iter ?? 0),
      doc: 'test-only conv classifier',
    });
  }
  if (!DATASETS.has('ToyDataset')) {
    DATASETS.register('ToyDataset', {
      schema: s.object({ num_samples: s.int({ min: 1 }), size: s.int({ min: 2 }), seed: s.int({ min: 0 }) }),
      build: (cfg) => new ToyDataset(cfg.num_samples, cfg.size, cfg.seed),
      doc: 'test-only generated quadrant images',
    });
  }
}
