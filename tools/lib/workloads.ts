// The steps the benchmark tools and the profiler time, built once here so `tools/benchmark backbone|
// detector|segmentor` and `tools/benchmark profile` measure exactly the same work:
//   backbone   a TinyViM (random weights): forward in eval mode (fork_feat outputs or logits), or a
//              train step = forward in train mode + backward of the sum of all outputs (no optimizer;
//              the PyTorch anchor in the project notes pytorch_tinyvim_speed.md does the same);
//   detector   a Mask R-CNN config: training step (prepareTrain + forward + backward + the config's
//              optimizer) or single-image inference;
//   segmentor  an EncoderDecoder config: training step or whole-image inference (argmax map).
// Inputs are NHWC float32 on the backend, created once before the first step.
import * as tf from '@tensorflow/tfjs';
import { TinyViM } from '../../backbones';
import { loadConfig } from '../../core/config';
import { UserError } from '../../core/errors';
import { buildModel } from '../../engine/build';
import { buildOptimizer } from '../../engine/optimizers';
import type { DetBatch, ImgMeta, SegBatch } from '../../datasets/types';
import { MaskRCNN } from '../../models/mask_rcnn';
import type { EncoderDecoder } from '../../models/encoder_decoder';
import { disposeSegSamples } from '../../structures/seg_sample';
import '../../models/mask_rcnn_builder';
import '../../datasets/register';
import { importRegistrations } from './cli';
import { tinyvimConfigFromArgs } from '../get_flops_common';
import type { Workload } from './bench';

export type StepMode = 'train' | 'infer';

/** A Workload plus facts for the report (parameter count, batch, input shape NHWC). */
export interface BuiltWorkload extends Workload {
  kind: 'backbone' | 'cls' | 'detector' | 'segmentor';
  mode: StepMode;
  params: number;
  inputShape: [number, number, number, number];
}

const smoothRandom = (n: number): Float32Array => {
  const data = new Float32Array(n);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 12.9898) * 1.5;
  return data;
};

/** Sum of all outputs as one scalar (the backbone train step's loss). */
const sumAll = (outs: tf.Tensor[]): tf.Scalar => tf.addN(outs.map((o) => tf.sum(o))) as tf.Scalar;

/**
 * TinyViM from --model (TinyViM_S|B|L) or a config's model.backbone. `cls` builds the classifier,
 * otherwise the fork_feat backbone. `fused` re-parameterises first (eval only).
 */
export async function backboneWorkload(a: {
  model?: string;
  config?: string;
  cls: boolean;
  mode: StepMode;
  shape: [number, number];
  batch: number;
  fused: boolean;
}): Promise<BuiltWorkload> {
  const { cfg, label } = await tinyvimConfigFromArgs({ model: a.model, config: a.config, mode: a.cls ? 'cls' : 'backbone' });
  if (a.config && a.cls) cfg.fork_feat = false;
  const [h, w] = a.shape;
  const model = new TinyViM(cfg);
  model.checkInputSize(h, w);
  if (a.mode === 'train' && a.fused) throw new UserError('--fused: re-parameterisation is for inference; drop it with --mode train');
  if (a.mode === 'train') model.train();
  else model.eval();
  if (a.fused) model.fuse();
  const x = tf.randomUniform([a.batch, h, w, 3], 0, 1) as tf.Tensor4D;
  const params = model.parameters();
  const step = (): tf.Tensor => {
    if (a.mode === 'infer') {
      return tf.tidy(() => {
        const out = model.forward(x);
        const outs = (Array.isArray(out) ? out : [out]) as tf.Tensor[];
        // The last output is computed last; reading it waits for the whole forward.
        return outs.length === 1 ? outs[0] : tf.addN(outs.map((o) => tf.sum(o)));
      });
    }
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forward(x);
      return sumAll((Array.isArray(out) ? out : [out]) as tf.Tensor[]);
    }, params);
    tf.dispose(Object.values(grads));
    return value;
  };
  return {
    kind: a.cls ? 'cls' : 'backbone',
    mode: a.mode,
    label: `${label}${a.fused ? ', fused' : ''}, ${a.mode === 'train' ? 'train step (fwd+bwd of the sum of outputs)' : 'forward'}, input ${a.batch}x3x${h}x${w}`,
    images: a.batch,
    params: model.numParameters(),
    inputShape: [a.batch, h, w, 3],
    step,
    dispose: () => {
      x.dispose();
      model.dispose();
    },
  };
}

/** Metadata of an unscaled, unflipped random image of h x w padded to pad. */
function meta(i: number, h: number, w: number, padH: number, padW: number): ImgMeta {
  return {
    filename: `random_${i}`,
    ori_filename: `random_${i}`,
    ori_shape: [h, w, 3],
    img_shape: [h, w, 3],
    pad_shape: [padH, padW, 3],
    scale_factor: [1, 1, 1, 1],
    flip: false,
    flip_direction: null,
  };
}

/** A batch of smooth random images with `objects` random boxes + box-shaped masks each. */
export function randomDetBatch(n: number, h: number, w: number, objects: number, numClasses: number): DetBatch {
  const H = Math.ceil(h / 32) * 32;
  const W = Math.ceil(w / 32) * 32;
  const metas: ImgMeta[] = [];
  const gtB: Float32Array[] = [];
  const gtL: Int32Array[] = [];
  const gtM: Uint8Array[][] = [];
  for (let b = 0; b < n; b++) {
    metas.push(meta(b, h, w, H, W));
    const boxes: number[] = [];
    const labels: number[] = [];
    const masks: Uint8Array[] = [];
    for (let k = 0; k < objects; k++) {
      const bw = Math.round(w * (0.1 + 0.3 * ((k * 0.37 + b * 0.11) % 1)));
      const bh = Math.round(h * (0.1 + 0.3 * ((k * 0.53 + b * 0.29) % 1)));
      const x = Math.round((w - bw) * ((k * 0.61 + 0.13) % 1));
      const y = Math.round((h - bh) * ((k * 0.79 + 0.41) % 1));
      boxes.push(x, y, x + bw, y + bh);
      labels.push(k % numClasses);
      const m = new Uint8Array(H * W);
      for (let yy = y; yy < y + bh; yy++) m.fill(1, yy * W + x, yy * W + x + bw);
      masks.push(m);
    }
    gtB.push(Float32Array.from(boxes));
    gtL.push(Int32Array.from(labels));
    gtM.push(masks);
  }
  return { kind: 'det', data: smoothRandom(n * H * W * 3), shape: [n, H, W, 3], metas, gt_bboxes: gtB, gt_labels: gtL, gt_masks: gtM };
}

/** Loads a config and checks its model.type. */
async function loadTyped(config: string, type: string, cfgOptions: string[]) {
  await importRegistrations();
  const { cfg } = await loadConfig(config, cfgOptions);
  if (cfg.model.type !== type) throw new UserError(`${config}: model.type is '${cfg.model.type}', expected '${type}'`);
  return cfg;
}

/** model.type of a config (to pick the workload kind). */
export async function configModelType(config: string): Promise<string> {
  await importRegistrations();
  const { cfg } = await loadConfig(config, []);
  return String(cfg.model.type);
}

/** Gradients keyed by variable name -> keyed by parameter name, as the optimizer wants them. */
function byParamName(grads: tf.NamedTensorMap, names: Map<string, string>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) out[names.get(k) ?? k] = g;
  return out;
}

/**
 * Mask R-CNN of a config. Train: the runner's step (prepareTrain reads the proposals asynchronously
 * on webgpu, then forward + backward of the summed losses + the config's optimizer). Infer: batch
 * `batch` (default 1), image h x w (padded to a multiple of 32), detections read back to the host.
 */
export async function detectorWorkload(a: { config: string; mode: StepMode; shape: [number, number]; batch?: number; objects: number; cfgOptions: string[] }): Promise<BuiltWorkload> {
  const cfg = await loadTyped(a.config, 'MaskRCNN', a.cfgOptions);
  const batch = a.batch ?? (a.mode === 'infer' ? 1 : cfg.data.samples_per_gpu);
  if (!Number.isInteger(batch) || batch < 1) throw new UserError(`--batch: expected a positive integer, got ${batch}`);
  const model = buildModel(cfg);
  if (!(model instanceof MaskRCNN)) throw new UserError(`${a.config}: the model is not a MaskRCNN`);
  const [h, w] = a.shape;
  const numClasses = model.roiHead.numClasses;
  const base = {
    kind: 'detector' as const,
    mode: a.mode,
    images: batch,
    params: model.module.numParameters(),
    inputShape: [batch, Math.ceil(h / 32) * 32, Math.ceil(w / 32) * 32, 3] as [number, number, number, number],
  };
  if (a.mode === 'infer') {
    model.module.eval();
    const imgs = randomDetBatch(batch, h, w, 0, numClasses);
    return {
      ...base,
      label: `${a.config}, inference, image ${w}x${h} (padded ${base.inputShape[2]}x${base.inputShape[1]}), batch ${batch}`,
      // The asynchronous test path (the same on every backend), detections read back to the host.
      step: async () => {
        await model.predictBitmaps(imgs);
        return null;
      },
      dispose: () => model.dispose(),
    };
  }
  model.module.train();
  const b = randomDetBatch(batch, h, w, a.objects, numClasses);
  const optimizer = buildOptimizer(model.module, cfg.optimizer);
  const names = new Map(model.module.namedParameters().map(([n, v]) => [v.name, n]));
  const lrs = optimizer.params.map((p) => p.baseLr);
  return {
    ...base,
    label: `${a.config}, train step (${cfg.optimizer.type}), batch ${batch}, image ${w}x${h} (padded ${base.inputShape[2]}x${base.inputShape[1]})`,
    step: async () => {
      await model.prepareTrain(b);
      const { value, grads } = tf.variableGrads(() => {
        const l = model.forwardTrain(b);
        return tf.addN(Object.entries(l).filter(([k]) => k.includes('loss')).map(([, v]) => v)) as tf.Scalar;
      });
      optimizer.step(byParamName(grads, names), lrs);
      tf.dispose(Object.values(grads));
      return value;
    },
    dispose: () => {
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** Semantic FPN (EncoderDecoder) of a config: train step with the config's optimizer, or whole-image inference. */
export async function segmentorWorkload(a: { config: string; mode: StepMode; shape: [number, number]; batch?: number; cfgOptions: string[] }): Promise<BuiltWorkload> {
  const cfg = await loadTyped(a.config, 'EncoderDecoder', a.cfgOptions);
  const batch = a.batch ?? (a.mode === 'infer' ? 1 : cfg.data.samples_per_gpu);
  if (!Number.isInteger(batch) || batch < 1) throw new UserError(`--batch: expected a positive integer, got ${batch}`);
  const model = buildModel(cfg) as unknown as EncoderDecoder;
  const [h, w] = a.shape;
  const base = { kind: 'segmentor' as const, mode: a.mode, images: batch, params: model.module.numParameters(), inputShape: [batch, h, w, 3] as [number, number, number, number] };
  if (a.mode === 'infer') {
    model.module.eval();
    const img = tf.randomNormal([batch, h, w, 3]) as tf.Tensor4D;
    const m = { ori_shape: [h, w, 3] as [number, number, number], img_shape: [h, w, 3] as [number, number, number] };
    return {
      ...base,
      label: `${a.config}, whole-image inference (argmax map), ${h}x${w}, batch ${batch}`,
      // The segmentor's test step as predict runs it: SegSamples (owned here) -> stacked argmax maps.
      step: () => {
        const samples = model.inferenceScores(img, m);
        try {
          return tf.tidy(() => (samples.length === 1 ? samples[0].labelMap() : tf.stack(samples.map((s) => s.labelMap()))));
        } finally {
          disposeSegSamples(samples);
        }
      },
      dispose: () => {
        img.dispose();
        model.dispose?.();
      },
    };
  }
  model.module.train();
  const numClasses = model.numClasses;
  const gt = new Uint8Array(batch * h * w);
  for (let i = 0; i < gt.length; i++) gt[i] = ((i * 2654435761) >>> 24) % numClasses;
  const sb: SegBatch = { kind: 'seg', data: smoothRandom(batch * h * w * 3), shape: [batch, h, w, 3], metas: Array.from({ length: batch }, (_, i) => meta(i, h, w, h, w)), gt_semantic_seg: gt };
  const optimizer = buildOptimizer(model.module, cfg.optimizer);
  const names = new Map(model.module.namedParameters().map(([n, v]) => [v.name, n]));
  const lrs = optimizer.params.map((p) => p.baseLr);
  return {
    ...base,
    label: `${a.config}, train step (${cfg.optimizer.type}), batch ${batch}, ${h}x${w}`,
    step: () => {
      const { value, grads } = tf.variableGrads(() => model.forwardTrain(sb)['decode.loss_ce']);
      optimizer.step(byParamName(grads, names), lrs);
      tf.dispose(Object.values(grads));
      return value;
    },
    dispose: () => {
      optimizer.dispose();
      model.dispose?.();
    },
  };
}
