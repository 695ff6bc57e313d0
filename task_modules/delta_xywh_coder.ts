// mmdet 2.x DeltaXYWHBBoxCoder (bbox2delta / delta2bbox). Tensor versions for the model and CPU twins on
// typed arrays (same float32 formulas) for proposal post-processing and tests.
import * as tf from '@tensorflow/tfjs';

export interface DeltaXYWHBBoxCoderConfig {
  target_means?: [number, number, number, number];
  target_stds?: [number, number, number, number];
  clip_border?: boolean;
  add_ctr_clamp?: boolean;
  ctr_clamp?: number;
}

const f = Math.fround;

export class DeltaXYWHBBoxCoder {
  readonly means: [number, number, number, number];
  readonly stds: [number, number, number, number];
  readonly clipBorder: boolean;
  readonly addCtrClamp: boolean;
  readonly ctrClamp: number;

  constructor(cfg: DeltaXYWHBBoxCoderConfig = {}) {
    this.means = cfg.target_means ?? [0, 0, 0, 0];
    this.stds = cfg.target_stds ?? [1, 1, 1, 1];
    if (this.means.length !== 4 || this.stds.length !== 4) throw new RangeError('DeltaXYWHBBoxCoder: target_means/target_stds need 4 numbers');
    this.clipBorder = cfg.clip_border ?? true;
    this.addCtrClamp = cfg.add_ctr_clamp ?? false;
    this.ctrClamp = cfg.ctr_clamp ?? 32;
  }

  /** Deltas [N, 4] that turn `proposals` [N, 4] into `gt` [N, 4] (normalised by means/stds). */
  encode(proposals: tf.Tensor2D, gt: tf.Tensor2D): tf.Tensor2D {
    if (proposals.shape[0] !== gt.shape[0]) throw new RangeError(`encode: ${proposals.shape[0]} proposals vs ${gt.shape[0]} gt boxes`);
    return tf.tidy(() => {
      const [px1, py1, px2, py2] = tf.unstack(proposals, 1);
      const [gx1, gy1, gx2, gy2] = tf.unstack(gt, 1);
      const px = tf.mul(tf.add(px1, px2), 0.5);
      const py = tf.mul(tf.add(py1, py2), 0.5);
      const pw = tf.sub(px2, px1);
      const ph = tf.sub(py2, py1);
      const gx = tf.mul(tf.add(gx1, gx2), 0.5);
      const gy = tf.mul(tf.add(gy1, gy2), 0.5);
      const gw = tf.sub(gx2, gx1);
      const gh = tf.sub(gy2, gy1);
      const d = tf.stack([tf.div(tf.sub(gx, px), pw), tf.div(tf.sub(gy, py), ph), tf.log(tf.div(gw, pw)), tf.log(tf.div(gh, ph))], 1);
      return tf.div(tf.sub(d, tf.tensor1d(this.means)), tf.tensor1d(this.stds)) as tf.Tensor2D;
    });
  }

  /**
   * Boxes [N, 4*C] from `rois` [N, 4] and `deltas` [N, 4*C] (C = 1 class-agnostic, or one group of 4 per
   * class). dw/dh are clamped to |log(whRatioClip)|; boxes are clipped to maxShape = [h, w] when given
   * and clip_border is on.
   */
  decode(rois: tf.Tensor2D, deltas: tf.Tensor2D, maxShape?: [number, number], whRatioClip = 16 / 1000): tf.Tensor2D {
    const n = deltas.shape[0];
    if (rois.shape[0] !== n) throw new RangeError(`decode: ${rois.shape[0]} rois vs ${n} delta rows`);
    if (deltas.shape[1] % 4 !== 0) throw new RangeError(`decode: delta width ${deltas.shape[1]} is not a multiple of 4`);
    if (n === 0) return tf.clone(deltas);
    const c = deltas.shape[1] / 4;
    const maxRatio = Math.abs(Math.log(whRatioClip));
    return tf.tidy(() => {
      const d = tf.add(tf.mul(tf.reshape(deltas, [n, c, 4]), tf.tensor1d(this.stds)), tf.tensor1d(this.means));
      let dxy = tf.slice(d, [0, 0, 0], [n, c, 2]);
      let dwh = tf.slice(d, [0, 0, 2], [n, c, 2]);
      const r = tf.reshape(rois, [n, 1, 4]);
      const p1 = tf.slice(r, [0, 0, 0], [n, 1, 2]);
      const p2 = tf.slice(r, [0, 0, 2], [n, 1, 2]);
      const pxy = tf.mul(tf.add(p1, p2), 0.5);
      const pwh = tf.sub(p2, p1);
      let dxyWh = tf.mul(pwh, dxy);
      if (this.addCtrClamp) {
        dxyWh = tf.clipByValue(dxyWh, -this.ctrClamp, this.ctrClamp);
        dwh = tf.minimum(dwh, maxRatio);
      } else {
        dwh = tf.clipByValue(dwh, -maxRatio, maxRatio);
      }
      const gxy = tf.add(pxy, dxyWh);
      const half = tf.mul(tf.mul(pwh, tf.exp(dwh)), 0.5);
      let x1y1 = tf.sub(gxy, half);
      let x2y2 = tf.add(gxy, half);
      if (this.clipBorder && maxShape) {
        const hi = tf.tensor1d([maxShape[1], maxShape[0]]);
        x1y1 = tf.minimum(tf.maximum(x1y1, 0), hi);
        x2y2 = tf.minimum(tf.maximum(x2y2, 0), hi);
      }
      dxy = tf.concat([x1y1, x2y2], 2);
      return tf.reshape(dxy, [n, 4 * c]) as tf.Tensor2D;
    });
  }

  /** CPU twin of encode on flat [N*4] arrays. */
  encodeArr(proposals: ArrayLike<number>, gt: ArrayLike<number>): Float32Array {
    if (proposals.length !== gt.length || proposals.length % 4 !== 0) {
      throw new RangeError(`encodeArr: proposals (${proposals.length}) and gt (${gt.length}) must be equal multiples of 4`);
    }
    const out = new Float32Array(proposals.length);
    for (let i = 0; i < proposals.length; i += 4) {
      const px = f(f(proposals[i] + proposals[i + 2]) * 0.5);
      const py = f(f(proposals[i + 1] + proposals[i + 3]) * 0.5);
      const pw = f(proposals[i + 2] - proposals[i]);
      const ph = f(proposals[i + 3] - proposals[i + 1]);
      const gx = f(f(gt[i] + gt[i + 2]) * 0.5);
      const gy = f(f(gt[i + 1] + gt[i + 3]) * 0.5);
      const gw = f(gt[i + 2] - gt[i]);
      const gh = f(gt[i + 3] - gt[i + 1]);
      const d = [f(f(gx - px) / pw), f(f(gy - py) / ph), f(Math.log(f(gw / pw))), f(Math.log(f(gh / ph)))];
      for (let k = 0; k < 4; k++) out[i + k] = f(f(d[k] - this.means[k]) / this.stds[k]);
    }
    return out;
  }

  /** CPU twin of decode: rois flat [N*4], deltas flat [N*4*C]; returns [N*4*C]. */
  decodeArr(rois: ArrayLike<number>, deltas: ArrayLike<number>, maxShape?: [number, number], whRatioClip = 16 / 1000): Float32Array {
    const n = rois.length / 4;
    if (!Number.isInteger(n) || (n > 0 && deltas.length % (4 * n) !== 0) || (n === 0 && deltas.length !== 0)) {
      throw new RangeError(`decodeArr: ${rois.length} roi numbers and ${deltas.length} delta numbers do not match`);
    }
    const c = n === 0 ? 0 : deltas.length / (4 * n);
    const maxRatio = Math.abs(Math.log(whRatioClip));
    const out = new Float32Array(deltas.length);
    const clip = this.clipBorder && maxShape !== undefined;
    for (let i = 0; i < n; i++) {
      const r = 4 * i;
      const pcx = f(f(rois[r] + rois[r + 2]) * 0.5);
      const pcy = f(f(rois[r + 1] + rois[r + 3]) * 0.5);
      const pw = f(rois[r + 2] - rois[r]);
      const ph = f(rois[r + 3] - rois[r + 1]);
      for (let k = 0; k < c; k++) {
        const o = (i * c + k) * 4;
        const dx = f(f(deltas[o] * this.stds[0]) + this.means[0]);
        const dy = f(f(deltas[o + 1] * this.stds[1]) + this.means[1]);
        let dw = f(f(deltas[o + 2] * this.stds[2]) + this.means[2]);
        let dh = f(f(deltas[o + 3] * this.stds[3]) + this.means[3]);
        let ox = f(pw * dx);
        let oy = f(ph * dy);
        if (this.addCtrClamp) {
          ox = Math.min(Math.max(ox, -this.ctrClamp), this.ctrClamp);
          oy = Math.min(Math.max(oy, -this.ctrClamp), this.ctrClamp);
          dw = Math.min(dw, maxRatio);
          dh = Math.min(dh, maxRatio);
        } else {
          dw = Math.min(Math.max(dw, -maxRatio), maxRatio);
          dh = Math.min(Math.max(dh, -maxRatio), maxRatio);
        }
        const gx = f(pcx + ox);
        const gy = f(pcy + oy);
        const hw = f(f(pw * f(Math.exp(dw))) * 0.5);
        const hh = f(f(ph * f(Math.exp(dh))) * 0.5);
        let x1 = f(gx - hw), y1 = f(gy - hh), x2 = f(gx + hw), y2 = f(gy + hh);
        if (clip) {
          const [H, W] = maxShape!;
          x1 = Math.min(Math.max(x1, 0), W);
          x2 = Math.min(Math.max(x2, 0), W);
          y1 = Math.min(Math.max(y1, 0), H);
          y2 = Math.min(Math.max(y2, 0), H);
        }
        out[o] = x1;
        out[o + 1] = y1;
        out[o + 2] = x2;
        out[o + 3] = y2;
      }
    }
    return out;
  }
}
