// The selective scan as a differentiable tensor op (tf.customGrad around the CPU kernel).
//
// Why a CPU kernel on every backend: the scan is sequential in L, and expressing it as tensor ops needs
// either one op per time step (thousands of tiny kernels at 800x1344) or a log-depth parallel scan that
// costs far more memory than the whole rest of the block. The scans of TinyViM run on the stride-32 grid,
// so the data is small: reading it back (dataSync) is cheap on cpu/wasm (same memory) and on tensorflow
// (host memory). On webgpu/webgl the values are read back from the GPU, which synchronises the queue:
// correct, but a stall per TViM block; see docs/backbone.md.
import * as tf from '@tensorflow/tfjs';
import { type ScanDims, type ScanInputs, selectiveScanBackwardCpu, selectiveScanForwardCpu } from './selective_scan_cpu';

export interface SelectiveScanOptions {
  /** Apply softplus to delta + deltaBias (Mamba's delta_softplus; TinyViM uses true). */
  deltaSoftplus?: boolean;
}

const f32 = (t: tf.Tensor): Float32Array => {
  const v = t.dataSync();
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
};

function dimsOf(u: tf.Tensor, A: tf.Tensor, B: tf.Tensor, C: tf.Tensor, D: tf.Tensor, bias: tf.Tensor): ScanDims {
  const fail = (msg: string): never => {
    throw new Error(`selectiveScan: ${msg}`);
  };
  if (u.rank !== 3) fail(`u must be [batch, channels, length], got [${u.shape}]`);
  const [batch, channels, length] = u.shape as [number, number, number];
  if (A.rank !== 2 || A.shape[0] !== channels) fail(`A must be [${channels}, dState], got [${A.shape}]`);
  const dState = A.shape[1] as number;
  if (B.rank !== 4 || B.shape[0] !== batch || B.shape[2] !== dState || B.shape[3] !== length) {
    fail(`B must be [${batch}, groups, ${dState}, ${length}], got [${B.shape}]`);
  }
  if (!tf.util.arraysEqual(B.shape, C.shape)) fail(`C must have the shape of B [${B.shape}], got [${C.shape}]`);
  if (D.size !== channels || bias.size !== channels) fail(`D and deltaBias must have ${channels} values, got ${D.size} and ${bias.size}`);
  const groups = B.shape[1] as number;
  if (channels % groups !== 0) fail(`channels (${channels}) must be a multiple of the B/C groups (${groups})`);
  return { batch, channels, groups, length, dState };
}

/**
 * y = selective_scan(u, delta, A, B, C, D, deltaBias) with Mamba's reference semantics.
 * u, delta: [batch, K*D, L]; A: [K*D, N] (already negative); B, C: [batch, K, N, L] (channel c uses
 * group floor(c / D)); D, deltaBias: [K*D] or null. Returns y [batch, K*D, L]. Differentiable in all
 * seven inputs.
 */
export function selectiveScan(
  u: tf.Tensor3D,
  delta: tf.Tensor3D,
  A: tf.Tensor2D,
  B: tf.Tensor4D,
  C: tf.Tensor4D,
  D: tf.Tensor | null,
  deltaBias: tf.Tensor | null,
  opts: SelectiveScanOptions = {},
): tf.Tensor3D {
  const softplusDelta = opts.deltaSoftplus ?? true;
  return tf.tidy(() => {
    const channels = u.shape[1];
    const Dt = D ? tf.reshape(D, [channels]) : tf.zeros([channels]);
    const biasT = deltaBias ? tf.reshape(deltaBias, [channels]) : tf.zeros([channels]);
    const dims = dimsOf(u, A, B, C, Dt, biasT);
    if (!tf.util.arraysEqual(delta.shape, u.shape)) throw new Error(`selectiveScan: delta must have the shape of u [${u.shape}], got [${delta.shape}]`);
    const read = (ts: tf.Tensor[]): ScanInputs => ({
      u: f32(ts[0]),
      delta: f32(ts[1]),
      A: f32(ts[2]),
      B: f32(ts[3]),
      C: f32(ts[4]),
      D: f32(ts[5]),
      deltaBias: f32(ts[6]),
    });
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const inputs = args.slice(0, 7) as tf.Tensor[];
      const save = args[7] as tf.GradSaveFunc;
      save(inputs);
      const y = selectiveScanForwardCpu(read(inputs), dims, softplusDelta);
      return {
        value: tf.tensor3d(y, u.shape),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const g = selectiveScanBackwardCpu(read(saved), f32(dy), dims, softplusDelta);
          return [
            tf.tensor(g.u, saved[0].shape),
            tf.tensor(g.delta, saved[1].shape),
            tf.tensor(g.A, saved[2].shape),
            tf.tensor(g.B, saved[3].shape),
            tf.tensor(g.C, saved[4].shape),
            tf.tensor(g.D, saved[5].shape),
            tf.tensor(g.deltaBias, saved[6].shape),
          ];
        },
      };
    });
    return op(u, delta, A, B, C, Dt, biasT) as tf.Tensor3D;
  });
}
