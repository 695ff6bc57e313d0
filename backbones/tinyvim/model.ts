// TinyViM (Ma et al., "TinyViM: Frequency Decoupling for Tiny Hybrid Vision Mamba"), as the official
// code computes it, in NHWC. Reads top-down: stem -> stages of LocalBlocks and TViM blocks separated by
// stride-2 Embeddings -> either four normalised feature maps (fork_feat) or a classifier with a
// distillation head. State_dict names and shapes are the official ones.
import * as tf from '@tensorflow/tfjs';
import { Module } from '../../nn/module';
import { BatchNorm2d, Linear } from '../../nn/layers';
import { truncNormal } from '../../nn/init';
import { addLean } from '../../ops/fused_ops';
import { UserError } from '../../core/errors';
import { type TinyViMConfig, type TinyViMConfigInput, hasEmbedding, resolveTinyViMConfig, stageBlockKinds } from './config';
import { type ConvLike, Conv2dBN, FFN, RepDW, convGelu } from './rep_layers';
import { LaplaceMixer, poolFactor } from './laplace_mixer';

/** An input whose height or width the official model cannot process. */
export class InputSizeError extends UserError {}

// ---------------------------------------------------------------- stem and downsampling

/** patch_embed: Conv3x3 s2 (3 -> C/2) + BN, GELU, Conv3x3 s2 (-> C) + BN, GELU. Keys '0' and '2' as nn.Sequential. */
export class Stem extends Module {
  conv0: ConvLike;
  conv2: ConvLike;
  constructor(inChans: number, dim: number) {
    super();
    this.conv0 = this.child('0', new Conv2dBN(inChans, Math.floor(dim / 2), 3, 2, 1));
    this.conv2 = this.child('2', new Conv2dBN(Math.floor(dim / 2), dim, 3, 2, 1));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => convGelu(this.conv2, convGelu(this.conv0, x)));
  }
  fuse(): void {
    if (this.conv0 instanceof Conv2dBN) this.conv0 = this.replaceChild('0', this.conv0.fuse());
    if (this.conv2 instanceof Conv2dBN) this.conv2 = this.replaceChild('2', this.conv2.fuse());
  }
}

/** Embedding between stages: Conv3x3 s2 p1 + BN ('proj'), no activation. */
export class Embedding extends Module {
  proj: ConvLike;
  constructor(inC: number, outC: number) {
    super();
    this.proj = this.child('proj', new Conv2dBN(inC, outC, 3, 2, 1));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return this.proj.forward(x);
  }
  fuse(): void {
    if (this.proj instanceof Conv2dBN) this.proj = this.replaceChild('proj', this.proj.fuse());
  }
}

// ---------------------------------------------------------------- blocks

/** LocalBlock: x + layer_scale * FFN(RepDW(x)). */
export class LocalBlock extends Module {
  readonly layerScale: tf.Variable;
  dwconv: ConvLike;
  readonly mlp: FFN;
  constructor(dim: number, mlpRatio: number) {
    super();
    // Stored as PyTorch's [C, 1, 1]; the official code initialises it to 1.
    this.layerScale = this.param('layer_scale', tf.ones([dim, 1, 1]));
    this.dwconv = this.child('dwconv', new RepDW(dim, 3));
    this.mlp = this.child('mlp', new FFN(dim, Math.floor(dim * mlpRatio)));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const scale = tf.reshape(this.layerScale, [-1]);
      return addLean(x, tf.mul(scale, this.mlp.forward(this.dwconv.forward(x))));
    });
  }
  fuse(): void {
    if (this.dwconv instanceof RepDW) this.dwconv = this.replaceChild('dwconv', this.dwconv.fuse());
    this.mlp.fuse();
  }
}

/** TViMBlock: x = x + LaplaceMixer(x); x = x + FFN(x). No norm, no layer scale. */
export class TViMBlock extends Module {
  readonly op: LaplaceMixer;
  readonly mlp: FFN;
  constructor(dim: number, stage: number, mlpRatio: number, dState: number) {
    super();
    this.op = this.child('op', new LaplaceMixer(dim, stage, dState));
    this.mlp = this.child('mlp', new FFN(dim, Math.floor(dim * mlpRatio)));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const y = addLean(x, this.op.forward(x));
      return addLean(y, this.mlp.forward(y));
    });
  }
  fuse(): void {
    this.op.fuse();
    this.mlp.fuse();
  }
}

type Block = LocalBlock | TViMBlock;

/** One stage: its blocks, named '0', '1', ... as an nn.Sequential. */
export class Stage extends Module {
  readonly blocks: Block[];
  constructor(blocks: Block[]) {
    super();
    this.blocks = blocks.map((b, i) => this.child(String(i), b));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.blocks.reduce((h, b) => b.forward(h), x));
  }
  fuse(): void {
    for (const b of this.blocks) b.fuse();
  }
}

/** `network`: stages and Embeddings interleaved (indices 0, 2, 4, 6 are the stages with all downsamples). */
export class Network extends Module {
  readonly items: (Stage | Embedding)[];
  constructor(items: (Stage | Embedding)[]) {
    super();
    this.items = items.map((m, i) => this.child(String(i), m));
  }
}

// ---------------------------------------------------------------- the model

/** fork_feat outputs come from these `network` indices (fixed in the official code). */
export const OUT_INDICES = [0, 2, 4, 6];

/** Classification output: logits, or in training mode with distillation the (head, dist_head) pair. */
export type TinyViMLogits = tf.Tensor2D | [tf.Tensor2D, tf.Tensor2D];

export class TinyViM extends Module {
  readonly cfg: TinyViMConfig;
  readonly patchEmbed: Stem;
  readonly network: Network;
  /** fork_feat: BatchNorm2d per output, keyed by network index. */
  readonly outNorms = new Map<number, BatchNorm2d>();
  readonly norm: BatchNorm2d | null = null;
  readonly head: Linear | null = null;
  readonly distHead: Linear | null = null;
  private fusedFlag = false;

  constructor(config: TinyViMConfigInput | TinyViMConfig) {
    super();
    const cfg = (this.cfg = resolveTinyViMConfig(config));
    this.patchEmbed = this.child('patch_embed', new Stem(3, cfg.embed_dims[0]));
    const items: (Stage | Embedding)[] = [];
    for (let i = 0; i < 4; i++) {
      const dim = cfg.embed_dims[i];
      const blocks = stageBlockKinds(cfg, i).map((kind) =>
        kind === 'tvim' ? new TViMBlock(dim, i, cfg.mlp_ratios[i], cfg.d_state) : new LocalBlock(dim, cfg.mlp_ratios[i]),
      );
      items.push(new Stage(blocks));
      if (hasEmbedding(cfg, i)) items.push(new Embedding(dim, cfg.embed_dims[i + 1]));
    }
    this.network = this.child('network', new Network(items));
    if (cfg.fork_feat) {
      OUT_INDICES.forEach((idx, iEmb) => this.outNorms.set(idx, this.child(`norm${idx}`, new BatchNorm2d(cfg.embed_dims[iEmb]))));
    } else {
      const c = cfg.embed_dims[3];
      this.norm = this.child('norm', new BatchNorm2d(c));
      const linear = () =>
        new Linear(c, cfg.num_classes, { weightInit: (shape) => truncNormal(shape, 0.02), biasInit: (shape) => tf.zeros(shape) });
      if (cfg.num_classes > 0) {
        this.head = this.child('head', linear());
        if (cfg.distillation) this.distHead = this.child('dist_head', linear());
      }
    }
  }

  get fused(): boolean {
    return this.fusedFlag;
  }

  /** Channels of the fork_feat outputs (finest first); the classifier's pooled width otherwise. */
  get outChannels(): number[] {
    return this.cfg.fork_feat ? [...this.outNorms.keys()].map((idx) => this.cfg.embed_dims[OUT_INDICES.indexOf(idx)]) : [this.cfg.embed_dims[3]];
  }

  /** Strides of the fork_feat outputs relative to the input (4, 8, 16, 32); none for a classifier. */
  get strides(): number[] {
    return this.cfg.fork_feat ? OUT_INDICES.map((_, i) => 4 * 2 ** i) : [];
  }

  /** Zero-pads an NHWC batch at the bottom/right to the next size this model accepts (identity if valid). */
  padInput(x: tf.Tensor4D): tf.Tensor4D {
    return padInputToValid(this.cfg, x);
  }

  /** Throws InputSizeError unless the official model accepts an input of this height and width. */
  checkInputSize(height: number, width: number): void {
    for (const [name, v] of [
      ['height', height],
      ['width', width],
    ] as const) {
      if (!isValidInputSize(this.cfg, v)) {
        throw new InputSizeError(
          `TinyViM: input ${name} ${v} is not supported: every side X must satisfy ceil(X/4) % 8 == 0 ` +
            `(X mod 32 in {0, 29, 30, 31}, X >= 29) so the pooled low-frequency path returns to the stage size; ` +
            `the next valid size is ${nextValidInputSize(this.cfg, v)} (padInputToValid pads zeros at the bottom/right)`,
        );
      }
    }
  }

  /** Outputs of the `network` entries (stage outputs before any output norm), in network order. */
  forwardTokens(x: tf.Tensor4D): tf.Tensor4D[] {
    if (x.rank !== 4 || x.shape[3] !== 3) throw new InputSizeError(`TinyViM: expected an NHWC float32 image batch [B, H, W, 3], got shape [${x.shape}]`);
    this.checkInputSize(x.shape[1], x.shape[2]);
    return tf.tidy(() => {
      const outs: tf.Tensor4D[] = [];
      let h = this.patchEmbed.forward(x);
      for (const item of this.network.items) {
        h = item instanceof Stage ? item.forward(h) : item.forward(h);
        outs.push(h);
      }
      return outs;
    });
  }

  /** fork_feat mode: the normalised outputs of stages 1-4 (strides 4, 8, 16, 32), NHWC. */
  forwardFeatures(x: tf.Tensor4D): tf.Tensor4D[] {
    if (!this.cfg.fork_feat) throw new Error('TinyViM.forwardFeatures needs fork_feat: true (this model is a classifier; use forwardLogits)');
    return tf.tidy(() => {
      const toks = this.forwardTokens(x);
      const outs: tf.Tensor4D[] = [];
      for (const [idx, norm] of this.outNorms) if (idx < toks.length) outs.push(norm.forward(toks[idx]));
      return outs;
    });
  }

  /** Global-average-pooled `norm(stage 4)` features [B, C] (classification mode). */
  forwardPooled(x: tf.Tensor4D): tf.Tensor2D {
    if (!this.norm) throw new Error('TinyViM.forwardPooled needs fork_feat: false');
    return tf.tidy(() => {
      const toks = this.forwardTokens(x);
      return tf.mean(this.norm!.forward(toks[toks.length - 1]), [1, 2]) as tf.Tensor2D;
    });
  }

  /**
   * Classification: eval mode returns (head + dist_head) / 2 (or head alone without distillation);
   * training mode with distillation returns the pair [head, dist_head], as the official forward.
   */
  forwardLogits(x: tf.Tensor4D): TinyViMLogits {
    return tf.tidy(() => {
      const f = this.forwardPooled(x);
      if (!this.head) return f;
      const a = this.head.forward(f) as tf.Tensor2D;
      if (!this.distHead) return a;
      const b = this.distHead.forward(f) as tf.Tensor2D;
      return this.training ? ([a, b] as [tf.Tensor2D, tf.Tensor2D]) : (tf.div(tf.add(a, b), 2) as tf.Tensor2D);
    });
  }

  /** The official forward: four feature maps with fork_feat, logits otherwise. */
  forward(x: tf.Tensor4D): tf.Tensor4D[] | TinyViMLogits {
    return this.cfg.fork_feat ? this.forwardFeatures(x) : this.forwardLogits(x);
  }

  /**
   * Re-parameterises for inference in place (the official fuse()): every Conv2d_BN becomes a conv
   * with bias, every RepDW / RepDW_Axias one depth-wise conv. Uses the running statistics, so call it on
   * a trained model; the state_dict keys change to the deploy names (e.g. `patch_embed.0.weight`).
   */
  fuse(): this {
    if (this.fusedFlag) return this;
    this.patchEmbed.fuse();
    for (const item of this.network.items) item.fuse();
    this.fusedFlag = true;
    return this;
  }
}

// ---------------------------------------------------------------- input sizes

const down2 = (x: number): number => Math.floor((x - 1) / 2) + 1; // Conv 3x3, stride 2, pad 1

/** Whether a side of length `x` passes every pooled low-frequency path of this configuration. */
export function isValidInputSize(cfg: TinyViMConfig, x: number): boolean {
  let s = down2(down2(x));
  for (let i = 0; i < 4; i++) {
    if (stageBlockKinds(cfg, i).includes('tvim')) {
      const p = poolFactor(i);
      if (s < p || s % p !== 0) return false;
    }
    if (hasEmbedding(cfg, i)) s = down2(s);
  }
  return true;
}

/** The smallest valid side length >= x. */
export function nextValidInputSize(cfg: TinyViMConfig, x: number): number {
  let v = Math.max(1, Math.ceil(x));
  while (!isValidInputSize(cfg, v)) v++;
  return v;
}

/**
 * Pads an NHWC batch with zeros at the bottom and right to the next valid size. The model's output on
 * the padded batch is exactly the official output on the same padded batch.
 */
export function padInputToValid(cfg: TinyViMConfig, x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  const H = nextValidInputSize(cfg, h);
  const W = nextValidInputSize(cfg, w);
  if (H === h && W === w) return x.clone();
  return tf.pad(x, [
    [0, 0],
    [0, H - h],
    [0, W - w],
    [0, 0],
  ]);
}
