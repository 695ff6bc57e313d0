// Gradient kernels the wasm backend lacks (tfjs-backend-wasm 4.22), so a conv net trains there:
//   Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput,
//   UnsortedSegmentSum (the gradient of gather).
// They are composed from wasm kernels that exist (pad, strided slice, transpose, batched matMul,
// multiply, sum, depth-wise conv), called directly with the backend, so the heavy work runs in
// wasm/XNNPACK rather than in JS loops. Plus a BatchMatMul gradient that transposes explicitly on
// wasm, where matMul with transpose flags is ~10x slower than transpose + plain matMul.
import * as tf from '@tensorflow/tfjs';

type TI = tf.TensorInfo;
type Attrs = Record<string, unknown>;
interface WasmBackendLike {
  readSync(dataId: unknown): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType): TI;
  typedArrayFromHeap(t: TI): tf.backend_util.TypedArray;
  disposeData(dataId: unknown): boolean;
}

/** Runs wasm kernels by name and frees the intermediates it made. */
class Composer {
  private readonly temps: TI[] = [];
  constructor(private readonly backend: WasmBackendLike) {}

  run(name: string, inputs: TI[] | Record<string, TI>, attrs: Attrs = {}): TI {
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new Error(`wasm kernel ${name} is missing`);
    const out = k.kernelFunc({ inputs: inputs as never, backend: this.backend as never, attrs: attrs as never }) as TI;
    this.temps.push(out);
    return out;
  }

  reshape(x: TI, shape: number[]): TI {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TI, perm: number[]): TI {
    return this.run('Transpose', { x }, { perm });
  }

  /** Pads (positive amounts) and crops (negative amounts) each axis: amounts are [before, after]. */
  padOrCrop(x: TI, amounts: [number, number][]): TI {
    let t = x;
    if (amounts.some(([a, b]) => a > 0 || b > 0)) {
      t = this.run('PadV2', { x: t }, { paddings: amounts.map(([a, b]) => [Math.max(a, 0), Math.max(b, 0)]), constantValue: 0 });
    }
    if (amounts.some(([a, b]) => a < 0 || b < 0)) {
      const begin = amounts.map(([a]) => Math.max(-a, 0));
      const size = t.shape.map((d, i) => d - begin[i] - Math.max(-amounts[i][1], 0));
      t = this.run('Slice', { x: t }, { begin, size });
    }
    return t;
  }

  /** x[:, i0::sh, j0::sw, :] limited to `rows` x `cols` outputs. */
  tap(x: TI, i0: number, j0: number, rows: number, cols: number, sh: number, sw: number): TI {
    const [b, , , c] = x.shape;
    // A plain slice is about twice as fast as a strided one on wasm.
    if (sh === 1 && sw === 1) return this.run('Slice', { x }, { begin: [0, i0, j0, 0], size: [b, rows, cols, c] });
    return this.run(
      'StridedSlice',
      { x },
      { begin: [0, i0, j0, 0], end: [b, i0 + (rows - 1) * sh + 1, j0 + (cols - 1) * sw + 1, c], strides: [1, sh, sw, 1], beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 },
    );
  }

  /** Frees every intermediate except `keep`. */
  finish(keep: TI): TI {
    for (const t of this.temps) if (t !== keep) this.backend.disposeData(t.dataId);
    return keep;
  }
}

interface ConvGeom {
  top: number;
  left: number;
  outH: number;
  outW: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
}

function geometry(info: tf.backend_util.Conv2DInfo): ConvGeom {
  return {
    top: info.padInfo.top,
    left: info.padInfo.left,
    outH: info.outHeight,
    outW: info.outWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
  };
}

/** Pads x so every tap (i*dh + oy*sh for oy < outH) is in range; returns the padded input. */
function padForTaps(c: Composer, x: TI, g: ConvGeom, fh: number, fw: number): TI {
  const [, h, w] = x.shape;
  const bottom = (g.outH - 1) * g.sh + (fh - 1) * g.dh + 1 - g.top - h;
  const right = (g.outW - 1) * g.sw + (fw - 1) * g.dw + 1 - g.left - w;
  return c.padOrCrop(x, [
    [0, 0],
    [g.top, Math.max(bottom, 0)],
    [g.left, Math.max(right, 0)],
    [0, 0],
  ]);
}

function conv2DBackpropFilter({ inputs, backend, attrs }: { inputs: Record<string, TI>; backend: unknown; attrs: Attrs }): TI {
  const { x, dy } = inputs;
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (a.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (wasm): only NHWC is supported');
  const [fh, fw, ci, co] = a.filterShape;
  const g = geometry(tf.backend_util.computeConv2DInfo(x.shape as never, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast'));
  const c = new Composer(backend as WasmBackendLike);
  const n = x.shape[0] * g.outH * g.outW;
  const xp = padForTaps(c, x, g, fh, fw);
  // dW[i, j] = x_tap(i, j)^T @ dy, computed as dy^T @ x_tap (one transpose of dy instead of one per tap).
  const dyT = c.transpose(c.reshape(dy, [1, n, co]), [0, 2, 1]);
  const taps: TI[] = [];
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const xs = c.reshape(c.tap(xp, i * g.dh, j * g.dw, g.outH, g.outW, g.sh, g.sw), [1, n, ci]);
      taps.push(c.run('BatchMatMul', { a: dyT, b: xs }, { transposeA: false, transposeB: false }));
    }
  }
  const cat = taps.length === 1 ? taps[0] : c.run('Concat', taps, { axis: 0 });
  return c.finish(c.reshape(c.transpose(cat, [0, 2, 1]), [fh, fw, ci, co]));
}

function depthwiseBackpropFilter({ inputs, backend, attrs }: { inputs: Record<string, TI>; backend: unknown; attrs: Attrs }): TI {
  const { x, dy } = inputs;
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const [fh, fw, ch, m] = a.filterShape;
  const g = geometry(tf.backend_util.computeConv2DInfo(x.shape as never, a.filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode, true));
  const c = new Composer(backend as WasmBackendLike);
  const n = x.shape[0] * g.outH * g.outW;
  const xp = padForTaps(c, x, g, fh, fw);
  const dy3 = c.reshape(dy, [n, ch, m]);
  // Summing over the pixel axis as ones[1, n] @ prod[n, ch*m]: wasm's Sum over a leading axis
  // transposes first and is ~50x slower than this matMul.
  const ones = c.run('Fill', {}, { shape: [1, 1, n], value: 1, dtype: 'float32' });
  const taps: TI[] = [];
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const xs = c.reshape(c.tap(xp, i * g.dh, j * g.dw, g.outH, g.outW, g.sh, g.sw), [n, ch, 1]);
      const prod = c.reshape(c.run('Multiply', { a: xs, b: dy3 }), [1, n, ch * m]);
      taps.push(c.run('BatchMatMul', { a: ones, b: prod }, { transposeA: false, transposeB: false }));
    }
  }
  const cat = taps.length === 1 ? taps[0] : c.run('Concat', taps, { axis: 0 });
  return c.finish(c.reshape(cat, [fh, fw, ch, m]));
}

function depthwiseBackpropInput({ inputs, backend, attrs }: { inputs: Record<string, TI>; backend: unknown; attrs: Attrs }): TI {
  const { dy, filter } = inputs;
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const [b, h, w, ch] = a.inputShape;
  const [fh, fw, , m] = filter.shape;
  const g = geometry(tf.backend_util.computeConv2DInfo(a.inputShape, filter.shape as never, a.strides, a.dilations, a.pad, a.dimRoundingMode, true));
  const c = new Composer(backend as WasmBackendLike);
  const cm = ch * m;
  // dx = depth-wise conv (stride 1, dilation d) of dy spread out by the stride and padded, with the
  // spatially flipped filter: dx[y] = sum_i dy_spread[y + top - i*dh] * w[i].
  let spread = dy;
  if (g.sh > 1 || g.sw > 1) {
    const r = c.reshape(dy, [b, g.outH, 1, g.outW, 1, cm]);
    const p = c.run('PadV2', { x: r }, { paddings: [[0, 0], [0, 0], [0, g.sh - 1], [0, 0], [0, g.sw - 1], [0, 0]], constantValue: 0 });
    spread = c.run('Slice', { x: c.reshape(p, [b, g.outH * g.sh, g.outW * g.sw, cm]) }, { begin: [0, 0, 0, 0], size: [b, (g.outH - 1) * g.sh + 1, (g.outW - 1) * g.sw + 1, cm] });
  }
  const frontH = (fh - 1) * g.dh - g.top;
  const frontW = (fw - 1) * g.dw - g.left;
  const padded = c.padOrCrop(spread, [
    [0, 0],
    [frontH, h + (fh - 1) * g.dh - frontH - spread.shape[1]],
    [frontW, w + (fw - 1) * g.dw - frontW - spread.shape[2]],
    [0, 0],
  ]);
  const flipped = c.reshape(c.run('Reverse', { x: filter }, { dims: [0, 1] }), [fh, fw, cm, 1]);
  const y = c.run('DepthwiseConv2dNative', { x: padded, filter: flipped }, { strides: [1, 1], pad: 'valid', dilations: [g.dh, g.dw], dataFormat: 'NHWC' });
  const out = m === 1 ? y : c.run('Sum', { x: c.reshape(y, [b, h, w, ch, m]) }, { axis: [4], keepDims: false });
  return c.finish(out);
}

function unsortedSegmentSum({ inputs, backend, attrs }: { inputs: Record<string, TI>; backend: unknown; attrs: Attrs }): TI {
  const { x, segmentIds } = inputs;
  const numSegments = (attrs as unknown as tf.UnsortedSegmentSumAttrs).numSegments;
  const be = backend as WasmBackendLike;
  const xv = be.readSync(x.dataId) as Float32Array | Int32Array;
  const ids = be.readSync(segmentIds.dataId) as Int32Array;
  const k = ids.length;
  const inner = k === 0 ? 0 : xv.length / k;
  const out = be.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
  const ov = be.typedArrayFromHeap(out) as Float32Array | Int32Array;
  ov.fill(0);
  for (let s = 0; s < k; s++) {
    const id = ids[s];
    if (id < 0 || id >= numSegments) continue;
    const src = s * inner;
    const dst = id * inner;
    for (let e = 0; e < inner; e++) ov[dst + e] += xv[src + e];
  }
  return out;
}

const KERNELS: [string, (args: { inputs: Record<string, TI>; backend: unknown; attrs: Attrs }) => TI][] = [
  ['Conv2DBackpropFilter', conv2DBackpropFilter],
  ['DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter],
  ['DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput],
  ['UnsortedSegmentSum', unsortedSegmentSum],
];

/** Sums `g` down to `shape` over broadcast batch axes (matMul batch broadcasting). */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (tf.util.arraysEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank - 2; i++) if (i < lead || shape[i - lead] === 1) axes.push(i);
  return tf.reshape(tf.sum(g, axes, true), shape);
}

const swapLast = (t: tf.Tensor): tf.Tensor => tf.transpose(t, [...Array(t.rank - 2).keys(), t.rank - 1, t.rank - 2]);

/**
 * BatchMatMul gradient: same formulas as tfjs-core's, but on wasm the transposes are explicit.
 * da = dy @ op(b)^T etc., with op() the forward transpose flags.
 */
function registerMatMulGradient(): void {
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const g = dy as tf.Tensor;
      const explicit = tf.getBackend() === 'wasm';
      const mm = (x: tf.Tensor, tx: boolean, y: tf.Tensor, ty: boolean): tf.Tensor =>
        explicit ? tf.matMul(tx ? swapLast(x) : x, ty ? swapLast(y) : y) : tf.matMul(x, y, tx, ty);
      let da: () => tf.Tensor;
      let db: () => tf.Tensor;
      if (!transposeA && !transposeB) {
        da = () => mm(g, false, b, true);
        db = () => mm(a, true, g, false);
      } else if (!transposeA && transposeB) {
        da = () => mm(g, false, b, false);
        db = () => mm(g, true, a, false);
      } else if (transposeA && !transposeB) {
        da = () => mm(b, false, g, true);
        db = () => mm(a, false, g, false);
      } else {
        da = () => mm(b, true, g, true);
        db = () => mm(g, true, a, true);
      }
      return { a: () => reduceTo(da(), a.shape), b: () => reduceTo(db(), b.shape) };
    },
  });
}

let registered = false;

/** Registers the missing wasm kernels and the wasm-friendly matMul gradient (idempotent). */
export function registerWasmGradKernels(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, fn] of KERNELS) {
    if (!tf.getKernel(kernelName, 'wasm')) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: fn as never });
  }
  registerMatMulGradient();
}
