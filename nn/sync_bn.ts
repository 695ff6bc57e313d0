// SyncBatchNorm2d (torch.nn.SyncBatchNorm / mmcv 'SyncBN'): in training, the batch statistics are
// those of the global batch over every rank of a data-parallel job, in forward and backward. With no
// process group (one process) it is exactly BatchNorm2d. The group is set by engine/dist when a job
// is launched with --launcher mpi; this module knows only the all-reduce it is given.
import * as tf from '@tensorflow/tfjs';
import { BatchNorm2d } from './layers';

/** A synchronous, in-place sum over the ranks of a job (engine/dist/mpi.ts allreduceSumSync). */
export interface SyncBnGroup {
  readonly size: number;
  allreduceSumSync(buf: Float32Array): void;
}

let group: SyncBnGroup | null = null;

/** Sets (or clears, with null) the process group every SyncBatchNorm2d reduces over. */
export function setSyncBnGroup(g: SyncBnGroup | null): void {
  group = g;
}

export function syncBnGroup(): SyncBnGroup | null {
  return group;
}

/** Per-channel sum over N, H, W of an NHWC tensor, read to the host. */
function channelSums(t: tf.Tensor): Float32Array {
  const s = tf.sum(t, [0, 1, 2]);
  const out = s.dataSync() as Float32Array;
  s.dispose();
  return Float32Array.from(out);
}

/**
 * Training-mode BatchNorm over the global batch. x: NHWC [N, H, W, C] (this rank's part), weight and
 * bias [C]. Forward: two all-reduces ([sum x, count], then sum (x - mean)^2) give the global mean and
 * biased variance (the two-pass form keeps the precision of tf.moments). Backward: one all-reduce of
 * [sum dxhat, sum dxhat·xhat] (dxhat = dy·weight), as torch's SyncBatchNorm backward; weight and
 * bias gradients stay local sums (the data-parallel gradient averaging combines them).
 * Returns y [N, H, W, C] and the global statistics for the running-stat update.
 */
export function syncBatchNormTrain(
  x: tf.Tensor4D,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  eps: number,
  g: SyncBnGroup,
): { y: tf.Tensor4D; mean: Float32Array; variance: Float32Array; count: number } {
  const C = x.shape[3];
  const local = x.size / C;
  const first = new Float32Array(C + 1);
  first.set(channelSums(x));
  first[C] = local;
  g.allreduceSumSync(first);
  const count = first[C];
  const mean = first.subarray(0, C).map((v) => v / count);
  const meanT = tf.tensor1d(mean);
  const sq = tf.tidy(() => {
    const d = tf.sub(x, meanT);
    return channelSums(tf.mul(d, d));
  });
  g.allreduceSumSync(sq);
  const variance = sq.map((v) => v / count);
  const invstdT = tf.tensor1d(variance.map((v) => 1 / Math.sqrt(v + eps)));
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, w, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const xhat = tf.mul(tf.sub(xi, meanT), invstdT);
    save([xhat, w, invstdT]);
    return {
      value: tf.add(tf.mul(xhat, w), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [xh, ws, inv] = saved;
          const dxhat = tf.mul(dy, ws);
          const buf = new Float32Array(2 * C);
          buf.set(channelSums(dxhat));
          buf.set(channelSums(tf.mul(dxhat, xh)), C);
          g.allreduceSumSync(buf);
          const meanD = tf.tensor1d(buf.subarray(0, C).map((v) => v / count));
          const meanDX = tf.tensor1d(buf.subarray(C).map((v) => v / count));
          const dx = tf.mul(tf.sub(tf.sub(dxhat, meanD), tf.mul(xh, meanDX)), inv);
          return [dx, tf.sum(tf.mul(dy, xh), [0, 1, 2]), tf.sum(dy, [0, 1, 2])];
        }),
    };
  });
  const y = op(x, weight, bias) as tf.Tensor4D;
  // The backward pass reads its saved copy of invstd (gradients() disposes forward temporaries).
  tf.dispose([meanT, invstdT]);
  return { y, mean, variance, count };
}

/**
 * mmcv 'SyncBN': state_dict keys as BatchNorm2d (weight, bias, running_mean, running_var,
 * num_batches_tracked). Running variance uses the unbiased global variance (count / (count - 1)).
 */
export class SyncBatchNorm2d extends BatchNorm2d {
  override forward(x: tf.Tensor4D): tf.Tensor4D {
    const g = group;
    if (!this.training || !g || g.size <= 1) return super.forward(x);
    const { y, mean, variance, count } = syncBatchNormTrain(x, this.weight as tf.Tensor as tf.Tensor1D, this.bias as tf.Tensor as tf.Tensor1D, this.eps, g);
    tf.tidy(() => {
      const m = this.momentum;
      const unbiased = tf.tensor1d(variance.map((v) => (v * count) / Math.max(count - 1, 1)));
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(tf.tensor1d(mean), m)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
      this.numBatchesTracked.assign(tf.add(this.numBatchesTracked, tf.scalar(1, 'int32')));
    });
    return y;
  }
}
