// The selective scan as a differentiable tensor op: tf.customGrad around two registered kernels
// (ops/selective_scan/kernels.ts), so it runs on every backend without reading tensors back itself.
//
// Why a kernel rather than tensor ops: the scan is sequential in L, and expressing it as tensor ops needs
// either one op per time step (thousands of tiny kernels at 800x1344) or a log-depth parallel scan that
// costs far more memory than the whole rest of the block. cpu/wasm/webgl/tensorflow run a deliberate CPU
// kernel (the scans of TinyViM run on the stride-32 grid, so the data is small); webgpu runs WGSL.
// The gradient kernel returns per-row partial gradients; the sums across rows are tensor ops here.
import * as tf from '@tensorflow/tfjs';
import { type ScanDims, gradRowLayout } from './cpu';
import { SCAN_GRAD_KERNEL, SCAN_KERNEL, registerSelectiveScanKernels } from './kernels';

registerSelectiveScanKernels();

export interface SelectiveScanOptions {
  /** Apply softplus to delta + deltaBias (Mamba's delta_softplus; TinyViM uses true). */
  deltaSoftplus?: boolean;
}

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
    for (const [name, t] of [['u', u], ['delta', delta], ['A', A], ['B', B], ['C', C], ['D', Dt], ['deltaBias', biasT]] as const) {
      if (t.dtype !== 'float32') throw new Error(`selectiveScan: ${name} must be float32, got ${t.dtype}`);
    }
    const dims = dimsOf(u, A, B, C, Dt, biasT);
    if (!tf.util.arraysEqual(delta.shape, u.shape)) throw new Error(`selectiveScan: delta must have the shape of u [${u.shape}], got [${delta.shape}]`);
    const attrs = { deltaSoftplus: softplusDelta };
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const inputs = args.slice(0, 7) as tf.Tensor[];
      const save = args[7] as tf.GradSaveFunc;
      save(inputs);
      const value = tf.engine().runKernel(SCAN_KERNEL, namedInputs(inputs), attrs as never) as tf.Tensor;
      return {
        value,
        // tidy: tfjs runs a custom backward outside any per-op scope, so temporaries would live to the end of backprop.
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const packed = tf.engine().runKernel(SCAN_GRAD_KERNEL, { ...namedInputs(saved), dy }, attrs as never) as tf.Tensor2D;
            return reduceGradRows(packed, dims, saved);
          }),
      };
    });
    return op(u, delta, A, B, C, Dt, biasT) as tf.Tensor3D;
  });
}

const namedInputs = (ts: tf.Tensor[]): tf.NamedTensorMap => ({
  u: ts[0],
  delta: ts[1],
  A: ts[2],
  B: ts[3],
  C: ts[4],
  D: ts[5],
  deltaBias: ts[6],
});

/**
 * The seven gradients from the packed per-row partials [batch * channels, W] (gradRowLayout): du and
 * d(delta) are per row already; dB and dC sum over the channels of each group; dA, dD and
 * d(deltaBias) sum over the batch.
 */
export function reduceGradRows(packed: tf.Tensor2D, d: ScanDims, saved: tf.Tensor[]): tf.Tensor[] {
  return tf.tidy(() => {
    const { batch, channels, groups, length: L, dState: N } = d;
    const lay = gradRowLayout(L, N);
    const rows = tf.reshape(packed, [batch, channels, lay.width]);
    const part = (offset: number, size: number) => tf.slice(rows, [0, 0, offset], [batch, channels, size]);
    const perGroup = (offset: number) => tf.sum(tf.reshape(part(offset, N * L), [batch, groups, channels / groups, N, L]), 2);
    const overBatch = (offset: number, size: number) => tf.sum(part(offset, size), 0);
    return [
      part(lay.du, L),
      part(lay.ddelta, L),
      overBatch(lay.dA, N),
      perGroup(lay.dB),
      perGroup(lay.dC),
      tf.reshape(overBatch(lay.dD, 1), saved[5].shape),
      tf.reshape(overBatch(lay.dBias, 1), saved[6].shape),
    ];
  });
}
