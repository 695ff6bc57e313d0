// RoIAlign (mmcv `RoIAlign(aligned=True, sampling_ratio=0, pool_mode='avg')`, i.e. torchvision's roi_align),
// NHWC, with a gradient w.r.t. the features (none w.r.t. the rois, as in mmcv).
//
// Why a sampling plan: tfjs's cropAndResize is a different op (one sample per output pixel, other
// coordinate rule) and has no gradient. RoIAlign's bilinear sampling is separable: a sample's weight is
// (row weight) x (column weight), the "outside the map" test is per axis, and the divisor n_h*n_w is a
// product. So per roi and per output row we precompute on the CPU the few (feature row, weight) pairs it
// touches (duplicates merged, 1/n_h folded in), the same per output column, and their outer product lists
// the (pixel, weight) entries of each output cell. The roi coordinates come from the host (the heads
// build them there), so planning is a CPU step over K*5 numbers with no read-back. The weighted sums
// then run either as typed-array kernels (cpu and wasm backends, much faster there; see RoiAlignImpl)
// or as tensor ops: gather + multiply + sorted segment sum forward, gather + multiply + scatter-add
// backward. All of GatherV2, Mul, SparseSegmentSum and ScatterNd exist on the cpu and wasm backends
// (UnsortedSegmentSum does not exist on wasm).
import * as tf from '@tensorflow/tfjs';

/** Per-axis sampling of one roi: for output bin b, entries offsets[b]..offsets[b+1]-1 of (index, weight). */
export interface AxisPlan {
  offsets: Int32Array;
  index: Int32Array;
  weight: Float32Array;
}

const f32 = Math.fround;

/** The box of a roi in feature pixels, with the per-bin sample counts (mmcv aligned rule, float32 maths). */
export interface RoiGeometry {
  startY: number;
  startX: number;
  binH: number;
  binW: number;
  /** Samples per bin along y / x; 0 when the roi has no positive extent (output 0, no gradient). */
  nH: number;
  nW: number;
}

/**
 * mmcv/torchvision geometry: start = x1*scale - 0.5 (aligned), size = x2*scale - 0.5 - start (no minimum
 * size when aligned, else at least 1), n = samplingRatio > 0 ? samplingRatio : ceil(size / out).
 */
export function roiGeometry(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  outH: number,
  outW: number,
  spatialScale: number,
  samplingRatio: number,
  aligned: boolean,
): RoiGeometry {
  const off = aligned ? 0.5 : 0;
  const sc = f32(spatialScale);
  const startX = f32(f32(x1 * sc) - off);
  const startY = f32(f32(y1 * sc) - off);
  let w = f32(f32(f32(x2 * sc) - off) - startX);
  let h = f32(f32(f32(y2 * sc) - off) - startY);
  if (!aligned) {
    w = Math.max(w, 1);
    h = Math.max(h, 1);
  }
  const binH = f32(h / outH);
  const binW = f32(w / outW);
  const nH = samplingRatio > 0 ? samplingRatio : Math.ceil(h / outH);
  const nW = samplingRatio > 0 ? samplingRatio : Math.ceil(w / outW);
  // Zero-size or inverted rois: ceil() gives <= 0 samples, so the kernels' loops never run.
  const empty = !(nH > 0 && nW > 0);
  return { startY, startX, binH, binW, nH: empty ? 0 : nH, nW: empty ? 0 : nW };
}

/**
 * The bilinear samples of one axis, before merging: sample (b, i) at index b*n + i lies at
 * p = start + b*bin + (i + 0.5)*bin/n (float32, torchvision's evaluation order). mmcv's per-axis rule:
 * p < -1 or p > size -> invalid (contributes 0, still counted in the divisor); p <= 0 -> 0;
 * low = floor(p); low >= size-1 -> low = high = size-1 with the fraction 0; else high = low + 1.
 * wLow = 1 - frac, wHigh = frac.
 */
export interface AxisSamples {
  n: number;
  low: Int32Array;
  high: Int32Array;
  wLow: Float32Array;
  wHigh: Float32Array;
  valid: Uint8Array;
}

export function axisSamples(start: number, bin: number, n: number, out: number, size: number): AxisSamples {
  const m = out * n;
  const s: AxisSamples = { n, low: new Int32Array(m), high: new Int32Array(m), wLow: new Float32Array(m), wHigh: new Float32Array(m), valid: new Uint8Array(m) };
  for (let b = 0; b < out; b++) {
    for (let i = 0; i < n; i++) {
      const k = b * n + i;
      let p = f32(f32(start + f32(b * bin)) + f32(f32((i + 0.5) * bin) / n));
      if (p < -1 || p > size) continue;
      if (p <= 0) p = 0;
      let low = Math.floor(p);
      let high: number;
      if (low >= size - 1) {
        low = high = size - 1;
        p = low;
      } else high = low + 1;
      const l = f32(p - low);
      s.low[k] = low;
      s.high[k] = high;
      s.wLow[k] = f32(1 - l);
      s.wHigh[k] = l;
      s.valid[k] = 1;
    }
  }
  return s;
}

/** axisSamples merged per bin: duplicate rows summed, 1/n folded in, so cell weight = wy * wx. */
export function axisPlan(start: number, bin: number, n: number, out: number, size: number): AxisPlan {
  const smp = axisSamples(start, bin, n, out, size);
  const offsets = new Int32Array(out + 1);
  const idx: number[] = [];
  const wts: number[] = [];
  const inv = n > 0 ? 1 / n : 0;
  const acc = new Map<number, number>();
  for (let b = 0; b < out; b++) {
    acc.clear();
    for (let k = b * n; k < (b + 1) * n; k++) {
      if (!smp.valid[k]) continue;
      acc.set(smp.low[k], (acc.get(smp.low[k]) ?? 0) + smp.wLow[k] * inv);
      if (smp.wHigh[k] !== 0) acc.set(smp.high[k], (acc.get(smp.high[k]) ?? 0) + smp.wHigh[k] * inv);
    }
    for (const [k, v] of acc) {
      idx.push(k);
      wts.push(v);
    }
    offsets[b + 1] = idx.length;
  }
  return { offsets, index: Int32Array.from(idx), weight: Float32Array.from(wts) };
}

/**
 * RoIAlign of one single-channel H x W map over one roi, computed sample by sample in float32 exactly as
 * torchvision's CPU kernel orders it (so thresholds such as mask targets' >= 0.5 agree with PyTorch).
 * Returns outH*outW values.
 */
export function roiAlignSingle(
  map: ArrayLike<number>,
  H: number,
  W: number,
  box: [number, number, number, number],
  outputSize: [number, number],
  spatialScale = 1,
  samplingRatio = 0,
  aligned = true,
): Float32Array {
  const [outH, outW] = outputSize;
  const g = roiGeometry(box[0], box[1], box[2], box[3], outH, outW, spatialScale, samplingRatio, aligned);
  const out = new Float32Array(outH * outW);
  if (g.nH === 0 || g.nW === 0) return out;
  const sy = axisSamples(g.startY, g.binH, g.nH, outH, H);
  const sx = axisSamples(g.startX, g.binW, g.nW, outW, W);
  const count = g.nH * g.nW;
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      let acc = 0;
      for (let a = oy * g.nH; a < (oy + 1) * g.nH; a++) {
        if (!sy.valid[a]) continue;
        const rl = sy.low[a] * W;
        const rh = sy.high[a] * W;
        for (let b = ox * g.nW; b < (ox + 1) * g.nW; b++) {
          if (!sx.valid[b]) continue;
          const w1 = f32(sy.wLow[a] * sx.wLow[b]);
          const w2 = f32(sy.wLow[a] * sx.wHigh[b]);
          const w3 = f32(sy.wHigh[a] * sx.wLow[b]);
          const w4 = f32(sy.wHigh[a] * sx.wHigh[b]);
          const v = f32(f32(f32(f32(w1 * map[rl + sx.low[b]]) + f32(w2 * map[rl + sx.high[b]])) + f32(w3 * map[rh + sx.low[b]])) + f32(w4 * map[rh + sx.high[b]]));
          acc = f32(acc + v);
        }
      }
      out[oy * outW + ox] = f32(acc / count);
    }
  }
  return out;
}

/**
 * The full sampling plan: entry e adds weight[e] * featFlat[pixel[e]] to output cell cell[e], where
 * featFlat is the [N*H*W, C] view of the NHWC features and cells are ordered (roi, outY, outX).
 * `cell` is non-decreasing and every cell has at least one entry (a weight-0 entry on pixel 0 if it has
 * no sample), which SparseSegmentSum needs to produce all rows.
 */
export interface RoiAlignPlan {
  pixel: Int32Array;
  cell: Int32Array;
  weight: Float32Array;
  numCells: number;
}

export function roiAlignPlan(
  rois: ArrayLike<number>,
  numRois: number,
  featShape: [number, number, number], // N, H, W
  outputSize: [number, number],
  spatialScale: number,
  samplingRatio = 0,
  aligned = true,
): RoiAlignPlan {
  const [N, H, W] = featShape;
  const [outH, outW] = outputSize;
  const cellsPerRoi = outH * outW;
  const numCells = numRois * cellsPerRoi;
  const plans: { py: AxisPlan; px: AxisPlan; base: number }[] = [];
  let total = 0;
  for (let k = 0; k < numRois; k++) {
    const b = rois[k * 5];
    if (!(Number.isInteger(b) && b >= 0 && b < N)) {
      throw new RangeError(`roiAlign: roi ${k} has batch index ${b}, expected an integer in [0, ${N - 1}]`);
    }
    const g = roiGeometry(rois[k * 5 + 1], rois[k * 5 + 2], rois[k * 5 + 3], rois[k * 5 + 4], outH, outW, spatialScale, samplingRatio, aligned);
    const py = axisPlan(g.startY, g.binH, g.nH, outH, H);
    const px = axisPlan(g.startX, g.binW, g.nW, outW, W);
    for (let oy = 0; oy < outH; oy++) {
      const ny = py.offsets[oy + 1] - py.offsets[oy];
      for (let ox = 0; ox < outW; ox++) total += Math.max(1, ny * (px.offsets[ox + 1] - px.offsets[ox]));
    }
    plans.push({ py, px, base: b * H * W });
  }
  const pixel = new Int32Array(total);
  const cell = new Int32Array(total);
  const weight = new Float32Array(total);
  let e = 0;
  for (let k = 0; k < numRois; k++) {
    const { py, px, base } = plans[k];
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const c = k * cellsPerRoi + oy * outW + ox;
        const start = e;
        for (let a = py.offsets[oy]; a < py.offsets[oy + 1]; a++) {
          const rowBase = base + py.index[a] * W;
          for (let j = px.offsets[ox]; j < px.offsets[ox + 1]; j++) {
            pixel[e] = rowBase + px.index[j];
            cell[e] = c;
            weight[e] = py.weight[a] * px.weight[j];
            e++;
          }
        }
        if (e === start) {
          pixel[e] = 0;
          cell[e] = c;
          weight[e] = 0;
          e++;
        }
      }
    }
  }
  return { pixel, cell, weight, numCells };
}

/** Forward of a plan on NHWC data as a typed-array loop: out[cell] += w * feat[pixel] over channels. */
export function roiAlignForwardCpu(plan: RoiAlignPlan, feat: Float32Array, C: number): Float32Array {
  const out = new Float32Array(plan.numCells * C);
  const { pixel, cell, weight } = plan;
  for (let e = 0; e < pixel.length; e++) {
    const w = weight[e];
    if (w === 0) continue;
    const bo = cell[e] * C;
    const bi = pixel[e] * C;
    for (let c = 0; c < C; c++) out[bo + c] += w * feat[bi + c];
  }
  return out;
}

/** Adjoint of roiAlignForwardCpu: dFeat[pixel] += w * dOut[cell]; `featSize` = N*H*W*C. */
export function roiAlignBackwardCpu(plan: RoiAlignPlan, dOut: Float32Array, featSize: number, C: number): Float32Array {
  const dx = new Float32Array(featSize);
  const { pixel, cell, weight } = plan;
  for (let e = 0; e < pixel.length; e++) {
    const w = weight[e];
    if (w === 0) continue;
    const bo = cell[e] * C;
    const bi = pixel[e] * C;
    for (let c = 0; c < C; c++) dx[bi + c] += w * dOut[bo + c];
  }
  return dx;
}

/** sum_e weight[e] * src[gatherIdx[e]] accumulated into rows segIds[e] (sorted) of a [numRows, C] result. */
function weightedGatherSegmentSum(src: tf.Tensor2D, gatherIdx: Int32Array, w: Float32Array, segIds: Int32Array): tf.Tensor2D {
  return tf.tidy(() => {
    const L = gatherIdx.length;
    const g = tf.gather(src, tf.tensor1d(gatherIdx, 'int32'));
    const gw = tf.mul(g, tf.tensor2d(w, [L, 1]));
    return tf.sparse.sparseSegmentSum(gw, tf.range(0, L, 1, 'int32'), tf.tensor1d(segIds, 'int32')) as tf.Tensor2D;
  });
}

/**
 * How the weighted sums run. 'cpu-kernel': typed-array loops over the plan, as the registered kernels
 * ROI_ALIGN_KERNEL / ROI_ALIGN_GRAD_KERNEL (cpu and wasm backends only: they read the features with
 * backend.readSync, which is free where tensor data already lives in main memory). This is ~15x faster
 * than the tensor ops there (measured, docs/ops.md: wasm's GatherV2 alone took 4.2 s for a [307k, 256]
 * gather), because it never materialises the [entries, C] intermediate. 'tensor-ops': gather + mul +
 * SparseSegmentSum forward, gather + mul + ScatterNd backward, for backends whose data lives elsewhere
 * (webgpu). 'auto' picks 'cpu-kernel' where the kernel is registered for the current backend.
 * Neither path reads a tensor back from the caller's side (no dataSync), so the op runs on webgpu.
 */
export type RoiAlignImpl = 'auto' | 'cpu-kernel' | 'tensor-ops';

/** Kernel names of the CPU implementation (attrs: { plan, outShape } / { plan, featShape }). */
export const ROI_ALIGN_KERNEL = 'TinyVimDenseRoiAlign';
export const ROI_ALIGN_GRAD_KERNEL = 'TinyVimDenseRoiAlignGrad';
/** Backends whose tensor data is in main memory: they get the typed-array kernels. */
export const ROI_ALIGN_CPU_BACKENDS = ['cpu', 'wasm'] as const;

interface HostBackend {
  readSync(dataId: unknown): tf.backend_util.BackendValues;
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): unknown;
}
type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Record<string, unknown> };
const asF32 = (v: tf.backend_util.BackendValues): Float32Array => (v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>));

function roiAlignCpuKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const be = backend as HostBackend;
  const shape = attrs.outShape as number[];
  const values = roiAlignForwardCpu(attrs.plan as RoiAlignPlan, asF32(be.readSync(inputs.x.dataId)), shape[3]);
  return { dataId: be.write(values, shape, 'float32') as object, shape, dtype: 'float32' };
}

function roiAlignGradCpuKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const be = backend as HostBackend;
  const shape = attrs.featShape as number[];
  const values = roiAlignBackwardCpu(attrs.plan as RoiAlignPlan, asF32(be.readSync(inputs.dy.dataId)), shape[0] * shape[1] * shape[2] * shape[3], shape[3]);
  return { dataId: be.write(values, shape, 'float32') as object, shape, dtype: 'float32' };
}

let kernelsRegistered = false;

/** Registers the CPU kernels for ROI_ALIGN_CPU_BACKENDS (idempotent, name-based: needs no backend loaded). */
export function registerRoiAlignKernels(): void {
  if (kernelsRegistered) return;
  kernelsRegistered = true;
  for (const backendName of ROI_ALIGN_CPU_BACKENDS) {
    if (!tf.getKernel(ROI_ALIGN_KERNEL, backendName)) tf.registerKernel({ kernelName: ROI_ALIGN_KERNEL, backendName, kernelFunc: roiAlignCpuKernel as never });
    if (!tf.getKernel(ROI_ALIGN_GRAD_KERNEL, backendName)) tf.registerKernel({ kernelName: ROI_ALIGN_GRAD_KERNEL, backendName, kernelFunc: roiAlignGradCpuKernel as never });
  }
}
registerRoiAlignKernels();

/**
 * RoIAlign on NHWC features. rois: [K, 5] = (batch_idx, x1, y1, x2, y2) in image coordinates, either as
 * a flat host array of K*5 numbers (the heads' form: nothing is read back) or as a [K, 5] tensor (read
 * with dataSync: tests and tools only; not usable on webgpu unless the tensor was made from host data).
 * Returns [K, outH, outW, C]. Differentiable w.r.t. `feat` only.
 * Throws RangeError for malformed rois, and for impl 'cpu-kernel' on a backend without the kernel.
 */
export function roiAlign(
  feat: tf.Tensor4D,
  rois: tf.Tensor2D | Float32Array,
  outputSize: [number, number],
  spatialScale: number,
  samplingRatio = 0,
  aligned = true,
  impl: RoiAlignImpl = 'auto',
): tf.Tensor4D {
  const [N, H, W, C] = feat.shape;
  const host = rois instanceof Float32Array;
  if (host ? rois.length % 5 !== 0 : rois.rank !== 2 || (rois.shape[0] > 0 && rois.shape[1] !== 5)) {
    throw new RangeError(`roiAlign: rois must have shape [K, 5], got ${host ? `${rois.length} numbers` : `[${rois.shape.join(', ')}]`}`);
  }
  const K = host ? rois.length / 5 : rois.shape[0];
  const [outH, outW] = outputSize;
  if (K === 0) return tf.zeros([0, outH, outW, C]);
  const plan = roiAlignPlan(host ? rois : rois.dataSync(), K, [N, H, W], outputSize, spatialScale, samplingRatio, aligned);
  const hasKernel = tf.getKernel(ROI_ALIGN_KERNEL, tf.getBackend()) != null;
  if (impl === 'cpu-kernel' && !hasKernel) throw new RangeError(`roiAlign: impl 'cpu-kernel' exists only on ${ROI_ALIGN_CPU_BACKENDS.join('/')}, not on '${tf.getBackend()}'`);
  const useCpu = impl === 'cpu-kernel' || (impl === 'auto' && hasKernel);
  const outShape = [K, outH, outW, C];
  const featShape = [N, H, W, C];

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x] = args as [tf.Tensor4D];
    const value = useCpu
      ? (tf.engine().runKernel(ROI_ALIGN_KERNEL, { x }, { plan, outShape } as never) as tf.Tensor4D)
      : tf.tidy(() => {
          const xFlat = tf.reshape(x, [N * H * W, C]) as tf.Tensor2D;
          return tf.reshape(weightedGatherSegmentSum(xFlat, plan.pixel, plan.weight, plan.cell), [K, outH, outW, C]);
        });
    const gradFunc = (d: tf.Tensor) => {
      if (useCpu) return [tf.engine().runKernel(ROI_ALIGN_GRAD_KERNEL, { dy: d }, { plan, featShape } as never) as tf.Tensor4D];
      // Plan tensors are rebuilt here from the typed arrays the closure holds: a tensor created in the
      // forward could be disposed by a caller's tf.tidy before the backward runs.
      const dx = tf.tidy(() => {
        const L = plan.pixel.length;
        const dyFlat = tf.reshape(d, [K * outH * outW, C]);
        const upd = tf.mul(tf.gather(dyFlat, tf.tensor1d(plan.cell, 'int32')), tf.tensor2d(plan.weight, [L, 1]));
        // ScatterNd sums updates that share an index (checked on cpu and wasm in test/ops_roi_align.test.ts).
        const s = tf.scatterND(tf.tensor2d(plan.pixel, [L, 1], 'int32'), upd, [N * H * W, C]);
        return tf.reshape(s, [N, H, W, C]);
      });
      return [dx];
    };
    return { value, gradFunc };
  });
  return op(feat) as tf.Tensor4D;
}
