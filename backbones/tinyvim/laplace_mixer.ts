// The Laplace mixer of a TViM block (the official class is named SS2D): in-projection, Rep_Inception
// + SiLU, a low/high frequency split, a selective scan (SSM) over the stride-32 grid for the low part,
// a RepDW for the high part, and the out-projection. NHWC throughout.
import * as tf from '@tensorflow/tfjs';
import { Module } from '../../nn/module';
import { LayerNorm, silu } from '../../nn/layers';
import { uniform } from '../../nn/init';
import { addLean, concatLean, subLean } from '../../ops/fused_ops';
import { crossMergeNHWC, crossScanNHWC } from '../../ops/selective_scan/cross_scan';
import { selectiveScan } from '../../ops/selective_scan/selective_scan';
import { type ConvLike, Conv2dBN, RepDW, RepInception } from './rep_layers';
import { resizeBilinear } from '../../ops/resize';
import { upsampleNearest } from './upsample';

/** Share of channels sent to the SSM ("low frequency" part), per stage. */
export const LOW_RATIOS = [1 / 4, 1 / 2, 1 / 2, 3 / 4];
/** Number of scan directions (cross scan). */
export const K_DIRECTIONS = 4;

/** Average-pool factor of the low part in stage i: 8, 4, 2, 1 (every scan then runs on the stride-32 grid). */
export const poolFactor = (stage: number): number => (stage < 3 ? 2 ** (3 - stage) : 1);

export interface MixerDims {
  dim: number;
  dInner: number;
  dtRank: number;
  dState: number;
  pool: number;
}

export function mixerDims(dim: number, stage: number, dState = 8): MixerDims {
  return { dim, dInner: Math.floor(dim * LOW_RATIOS[stage]), dtRank: Math.ceil(dim / 16), dState, pool: poolFactor(stage) };
}

export class LaplaceMixer extends Module {
  readonly d: MixerDims;
  readonly xProjWeight: tf.Variable;
  readonly dtProjsWeight: tf.Variable;
  readonly dtProjsBias: tf.Variable;
  readonly ALogs: tf.Variable;
  readonly Ds: tf.Variable;
  localConv: ConvLike;
  readonly outNorm: LayerNorm;
  inProj: ConvLike;
  readonly conv2d: RepInception;
  outProj: ConvLike;

  constructor(dim: number, stage: number, dState = 8) {
    super();
    const d = (this.d = mixerDims(dim, stage, dState));
    const { dInner, dtRank: R, dState: N } = d;
    const K = K_DIRECTIONS;
    // Mamba's initialisation: x_proj as nn.Linear default, dt_proj weight U(+-R^-0.5), dt bias =
    // softplus^-1 of dt ~ logU(1e-3, 1e-1), A = -(1..N), D = 1.
    const xb = 1 / Math.sqrt(dInner);
    this.xProjWeight = this.param('x_proj_weight', uniform([K, R + 2 * N, dInner], -xb, xb));
    const db = R ** -0.5;
    this.dtProjsWeight = this.param('dt_projs_weight', uniform([K, dInner, R], -db, db));
    this.dtProjsBias = this.param(
      'dt_projs_bias',
      tf.tidy(() => {
        const u = uniform([K, dInner], 0, 1);
        const dt = tf.maximum(tf.exp(tf.add(tf.mul(u, Math.log(0.1) - Math.log(1e-3)), Math.log(1e-3))), 1e-4);
        return tf.add(dt, tf.log(tf.neg(tf.expm1(tf.neg(dt)))));
      }),
    );
    this.ALogs = this.param('A_logs', tf.tidy(() => tf.tile(tf.log(tf.range(1, N + 1, 1, 'float32')).reshape([1, N]), [K * dInner, 1])));
    this.Ds = this.param('Ds', tf.ones([K * dInner]));
    this.localConv = this.child('local_conv', new RepDW(dim - dInner, 3));
    this.outNorm = this.child('out_norm', new LayerNorm(dInner));
    this.inProj = this.child('in_proj', new Conv2dBN(dim, dim));
    this.conv2d = this.child('conv2d', new RepInception(dim));
    this.outProj = this.child('out_proj', new Conv2dBN(dim, dim));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const { dInner, pool } = this.d;
      const [b, h, w, c] = x.shape;
      let y = silu(this.conv2d.forward(this.inProj.forward(x)));
      // split, not slice: tf.slice keeps its whole input on the tape.
      const [low, hi] = tf.split(y, [dInner, c - dInner], 3) as tf.Tensor4D[];
      const high = this.localConv.forward(hi);
      let lowOut: tf.Tensor4D;
      if (pool > 1) {
        const p = tf.avgPool(low, pool, pool, 'valid');
        const res = subLean(low, upsampleNearest(p, pool));
        lowOut = addLean(resizeBilinear(this.ssm(p), [h, w]), res);
      } else {
        lowOut = this.ssm(low);
      }
      y = concatLean([lowOut, high], 3);
      return this.outProj.forward(y);
    });
  }

  /** The selective-scan state-space model over an NHWC grid [B, h, w, dInner]. */
  ssm(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const { dInner: d, dtRank: R, dState: N } = this.d;
      const K = K_DIRECTIONS;
      const [b, h, w] = x.shape;
      const L = h * w;
      const seqs = crossScanNHWC(x); // [B, K, L, d]
      // Projections per direction, as batched matMuls over [K, B*L, .] (weights pre-transposed: wasm's
      // transposed matMul is slow).
      const xk = tf.reshape(tf.transpose(seqs, [1, 0, 2, 3]), [K, b * L, d]);
      const xDbl = tf.matMul(xk, tf.transpose(this.xProjWeight, [0, 2, 1]) as tf.Tensor3D);
      const [dts, Bs, Cs] = tf.split(xDbl, [R, N, N], 2) as tf.Tensor3D[];
      const delta = tf.matMul(dts, tf.transpose(this.dtProjsWeight, [0, 2, 1]) as tf.Tensor3D); // [K, B*L, d]
      // To Mamba's layout: u, delta [B, K*d, L]; B, C [B, K, N, L].
      const u = tf.reshape(tf.transpose(seqs, [0, 1, 3, 2]), [b, K * d, L]) as tf.Tensor3D;
      const toChannels = (t: tf.Tensor3D, ch: number) => tf.transpose(tf.reshape(t, [K, b, L, ch]), [1, 0, 3, 2]);
      const deltaM = tf.reshape(toChannels(delta as tf.Tensor3D, d), [b, K * d, L]) as tf.Tensor3D;
      const A = tf.neg(tf.exp(this.ALogs)) as tf.Tensor2D;
      const ys = selectiveScan(u, deltaM, A, toChannels(Bs, N) as tf.Tensor4D, toChannels(Cs, N) as tf.Tensor4D, this.Ds, this.dtProjsBias, {
        deltaSoftplus: true,
      });
      const ysSeq = tf.transpose(tf.reshape(ys, [b, K, d, L]), [0, 1, 3, 2]) as tf.Tensor4D;
      const merged = crossMergeNHWC(ysSeq, h, w); // [B, L, d]
      return tf.reshape(this.outNorm.forward(merged), [b, h, w, d]) as tf.Tensor4D;
    });
  }

  fuse(): void {
    if (this.localConv instanceof RepDW) this.localConv = this.replaceChild('local_conv', this.localConv.fuse());
    if (this.inProj instanceof Conv2dBN) this.inProj = this.replaceChild('in_proj', this.inProj.fuse());
    if (this.outProj instanceof Conv2dBN) this.outProj = this.replaceChild('out_proj', this.outProj.fuse());
    this.conv2d.fuse();
  }
}
