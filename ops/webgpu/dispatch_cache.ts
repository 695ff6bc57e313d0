// A cheaper per-dispatch host path for tfjs-backend-webgpu 4.22 (issue 10: the train steps are
// host-bound). V8 profiles of the TinyViM-B backbone and Semantic FPN train steps on the H200
// machine put ~40% of the host time in WebGPUBackend.recordAndSubmit (docs/speed.md), and a Dawn
// microbenchmark of the calls it makes per dispatch gives: createBindGroup ~34 us, getBindGroupLayout
// ~4 us, a pooled uniform buffer + writeBuffer ~3-16 us, setPipeline/setBindGroup/dispatch ~2 us each.
// A training or inference step repeats the same dispatches with the same shapes, and tfjs's buffer
// pool (LIFO free lists per size) hands out the same buffers in the same order once warm, so:
//   1. uniform records are cached by content in immutable buffers (no pooled buffer, no writeBuffer),
//   2. bind groups are cached by (pipeline, bound buffers, uniform buffer) identity,
//   3. each pipeline's bind-group layout is fetched once,
//   4. host data is uploaded with queue.writeBuffer into a pooled buffer instead of a fresh
//      mapped staging buffer plus a copy that also ends the compute pass.
// Correctness: a cached bind group only ever binds the same buffer objects, and a buffer that tfjs
// destroys is never handed out again, so a stale entry is simply never hit. (4) is ordered correctly
// because tfjs returns a buffer to its pool only when no unsubmitted command uses it (disposeData
// defers buffers of commandQueueOwnedIds to the next submit), and queue.writeBuffer runs on the queue
// timeline after every earlier submit and before the next. Caches are bounded; on overflow they are
// dropped and the uniform buffers destroyed after the next submit.
// Anything else (timestamp queries for the profiler, textures, pixel programs, parallel compilation)
// goes through tfjs's own recordAndSubmit. TVD_WEBGPU_DISPATCH_CACHE=0 keeps tfjs's path throughout
// (the "before" side of a benchmark).
import * as tf from '@tensorflow/tfjs';

/** Uniform records kept (distinct shapes x programs of a run); beyond this the caches start over. */
const MAX_UNIFORMS = 8192;
/** Bind groups kept; beyond this the bind-group cache starts over. */
const MAX_BIND_GROUPS = 32768;

interface UniformField {
  type: 'int32' | 'uint32' | 'float32';
  data: number[];
}

/** The members of tfjs-backend-webgpu's WebGPUBackend this module reads or replaces (4.22). */
interface Backend {
  device: GPUDeviceLike;
  queue: { writeBuffer(b: unknown, off: number, data: ArrayBufferView | ArrayBuffer, dataOff?: number, size?: number): void };
  tensorMap: { get(id: object): TensorData };
  bufferManager: { acquireBuffer(size: number, usage: number, mapped?: boolean, reuse?: boolean): GPUBufferLike };
  commandQueueOwnedIds: WeakSet<object>;
  commandEncoder: { beginComputePass(d: object): PassLike } | null;
  computePassEncoder: PassLike | null;
  dispatchCountInPass: number;
  activeTimers: unknown[] | null;
  recordAndSubmit(program: ProgramLike, output: TensorInfoLike, inputs: TensorInfoLike[], uniforms?: UniformField[]): void;
  uploadToGPU(dataId: object): void;
  submitQueue(): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  [installed]?: true;
}
interface PoolLike {
  freeBuffers: Map<string, object[]>;
  acquireBuffer(size: number, usage: number, mapped?: boolean, reuse?: boolean): GPUBufferLike;
}
interface GPUDeviceLike {
  createBuffer(d: { size: number; usage: number; mappedAtCreation?: boolean }): GPUBufferLike;
  createBindGroup(d: { layout: unknown; entries: { binding: number; resource: unknown }[] }): unknown;
}
interface GPUBufferLike {
  size: number;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}
interface PassLike {
  setPipeline(p: unknown): void;
  setBindGroup(i: number, g: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
}
interface PipelineLike {
  getBindGroupLayout(i: number): unknown;
}
interface ProgramLike {
  pipeline: PipelineLike | Promise<unknown>;
  pixelsOpType?: unknown;
  size?: boolean;
  outputShape: number[];
  outputComponent?: number;
  dispatch: [number, number, number];
}
interface TensorInfoLike {
  dataId: object;
  shape: number[];
}
interface TensorData {
  dtype: string;
  shape: number[];
  values: ArrayLike<number> | null;
  resource: unknown;
}

const installed = Symbol('tvdDispatchCache');

const ids = new WeakMap<object, number>();
let nextId = 1;
/** A stable small integer per GPU object (buffer or pipeline), for cache keys. */
export function objectId(o: object): number {
  let id = ids.get(o);
  if (id === undefined) {
    id = nextId++;
    ids.set(o, id);
  }
  return id;
}

const layouts = new WeakMap<object, unknown>();
/** getBindGroupLayout(0) of a pipeline, fetched once (each call makes a new wrapper in Dawn). */
export function layoutOf(pipeline: PipelineLike): unknown {
  let l = layouts.get(pipeline);
  if (l === undefined) {
    l = pipeline.getBindGroupLayout(0);
    layouts.set(pipeline, l);
  }
  return l;
}

/** Bind groups by key, bounded (see MAX_BIND_GROUPS). */
export class BindGroupCache {
  private readonly groups = new Map<string, unknown>();
  hits = 0;
  misses = 0;
  /** The bind group under `key`; `resources()` (in binding order) is only called to create one. */
  get(device: GPUDeviceLike, key: string, layout: unknown, resources: () => unknown[]): unknown {
    let g = this.groups.get(key);
    if (g !== undefined) {
      this.hits++;
      return g;
    }
    this.misses++;
    if (this.groups.size >= MAX_BIND_GROUPS) this.groups.clear();
    g = device.createBindGroup({ layout, entries: resources().map((resource, binding) => ({ binding, resource })) });
    this.groups.set(key, g);
    return g;
  }
  clear(): void {
    this.groups.clear();
  }
}

/**
 * The uniform record tfjs-backend-webgpu's makeUniforms writes (WGSL struct layout: scalars 4-byte
 * aligned, vec2 8, vec3/vec4 16, and 16 after a 5- or 6-element field; the record padded to its
 * largest alignment). An empty field is written as [1], as tfjs does (without changing `fields`).
 */
export function packUniforms(fields: UniformField[]): ArrayBuffer {
  let offset = 0;
  let prev = 0;
  let maxAlign = 1;
  const offsets: number[] = [];
  for (const f of fields) {
    const n = Math.max(f.data.length, 1);
    if (n > 6) throw new Error(`webgpu uniforms: unsupported ${n}D field`);
    let align = n === 1 ? 4 : n === 2 ? 8 : 16;
    if (prev === 5 || prev === 6) align = 16;
    if (align > maxAlign) maxAlign = align;
    offset = Math.ceil(offset / align) * align;
    prev = n;
    offsets.push(offset);
    offset += n * 4;
  }
  const bytes = new ArrayBuffer(Math.ceil(offset / maxAlign) * maxAlign);
  fields.forEach((f, i) => {
    const View = f.type === 'int32' ? Int32Array : f.type === 'uint32' ? Uint32Array : Float32Array;
    new View(bytes, offsets[i], Math.max(f.data.length, 1)).set(f.data.length === 0 ? [1] : f.data);
  });
  return bytes;
}

/** Per-backend state of the cached path. */
class DispatchCache {
  readonly bindGroups = new BindGroupCache();
  private readonly uniforms = new Map<string, GPUBufferLike>();
  private retired: GPUBufferLike[] = [];
  constructor(private readonly be: Backend) {}

  /** An immutable uniform buffer holding `bytes` (created once per distinct content). */
  uniformBuffer(bytes: ArrayBuffer): GPUBufferLike {
    const key = String.fromCharCode.apply(null, new Uint16Array(bytes) as unknown as number[]);
    let buf = this.uniforms.get(key);
    if (buf) return buf;
    if (this.uniforms.size >= MAX_UNIFORMS) {
      // Bind groups may reference the dropped buffers: start both caches over, destroy after submit.
      this.retired.push(...this.uniforms.values());
      this.uniforms.clear();
      this.bindGroups.clear();
    }
    const G = globalThis as unknown as { GPUBufferUsage: Record<string, number> };
    buf = this.be.device.createBuffer({ size: bytes.byteLength, usage: G.GPUBufferUsage.UNIFORM | G.GPUBufferUsage.COPY_DST, mappedAtCreation: true });
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(bytes));
    buf.unmap();
    this.uniforms.set(key, buf);
    return buf;
  }

  private readonly persistent = new Map<string, GPUBufferLike>();
  /**
   * A uniform buffer that lives as long as the backend, one per `name` and size, for dispatchers
   * that rewrite their record every call (the fused optimizer: lr and bias corrections change each
   * step). The caller must make sure no unsubmitted dispatch still reads the old record.
   */
  persistentUniform(name: string, bytes: number): GPUBufferLike {
    const key = `${name}:${bytes}`;
    let buf = this.persistent.get(key);
    if (!buf) {
      const G = globalThis as unknown as { GPUBufferUsage: Record<string, number> };
      buf = this.be.device.createBuffer({ size: bytes, usage: G.GPUBufferUsage.UNIFORM | G.GPUBufferUsage.COPY_DST });
      this.persistent.set(key, buf);
    }
    return buf;
  }

  /** After a submit: the retired uniform buffers are no longer referenced by unsubmitted work. */
  afterSubmit(): void {
    if (this.retired.length === 0) return;
    for (const b of this.retired) b.destroy();
    this.retired = [];
  }
}

const caches = new WeakMap<object, DispatchCache>();

/** The cache of an installed backend (for the fused optimizer's own dispatches and for tests). */
export function dispatchCacheOf(backend: object): DispatchCache | undefined {
  return caches.get(backend);
}

/** Whether the environment keeps tfjs's per-dispatch path (TVD_WEBGPU_DISPATCH_CACHE=0). */
export const dispatchCacheDisabled = (): boolean => typeof process !== 'undefined' && process.env?.TVD_WEBGPU_DISPATCH_CACHE === '0';

/**
 * Installs the cached dispatch and upload paths on one WebGPUBackend instance (idempotent).
 * Returns false when the environment disables it or the backend does not look like tfjs 4.22's.
 */
export function installDispatchCache(backend: object): boolean {
  const be = backend as Backend;
  if (be[installed]) return true;
  if (dispatchCacheDisabled()) return false;
  if (typeof be.recordAndSubmit !== 'function' || typeof be.uploadToGPU !== 'function' || typeof be.submitQueue !== 'function' || !be.bufferManager) return false;
  const cache = new DispatchCache(be);
  caches.set(be, cache);
  be[installed] = true;
  const tfjsRecord = be.recordAndSubmit;
  const tfjsUpload = be.uploadToGPU;
  const tfjsSubmit = be.submitQueue;
  const G = globalThis as unknown as { GPUBuffer: new () => object; GPUBufferUsage: Record<string, number> };

  be.submitQueue = function (this: Backend) {
    tfjsSubmit.call(this);
    cache.afterSubmit();
  };

  be.recordAndSubmit = function (this: Backend, program, output, inputs, programDefinedUniform) {
    const pipeline = program.pipeline;
    if (this.activeTimers != null || program.pixelsOpType != null || pipeline instanceof Promise) {
      return tfjsRecord.call(this, program, output, inputs, programDefinedUniform);
    }
    const tensors = [output, ...inputs];
    const buffers: unknown[] = [];
    let key = `${objectId(pipeline)}|`;
    for (const t of tensors) {
      const res = this.tensorMap.get(t.dataId).resource;
      if (!(res instanceof G.GPUBuffer)) return tfjsRecord.call(this, program, output, inputs, programDefinedUniform);
      buffers.push(res);
      key += `${objectId(res as object)},`;
    }
    // The uniform record, in tfjs's order: NaN, Infinity, shape and strides of every input then the
    // output, the program size, then the program's own uniforms.
    const fields: UniformField[] = [
      { type: 'float32', data: [NaN] },
      { type: 'float32', data: [Infinity] },
    ];
    for (const t of [...inputs, output]) {
      fields.push({ type: 'int32', data: t.shape }, { type: 'int32', data: strides(t.shape) });
    }
    if (program.size) {
      const size = sizeOf(program.outputShape);
      fields.push({ type: 'int32', data: [program.outputComponent ? size / program.outputComponent : size] });
    }
    if (programDefinedUniform) fields.push(...programDefinedUniform);
    const bytes = packUniforms(fields);
    const ub = cache.uniformBuffer(bytes);
    key += `|${objectId(ub)}`;
    const group = cache.bindGroups.get(this.device, key, layoutOf(pipeline), () => [
      ...buffers.map((buffer) => ({ buffer })),
      { buffer: ub, offset: 0, size: bytes.byteLength },
    ]);
    for (const t of tensors) this.commandQueueOwnedIds.add(t.dataId);

    this.ensureCommandEncoderReady();
    if (!this.computePassEncoder) this.computePassEncoder = this.commandEncoder!.beginComputePass({});
    const pass = this.computePassEncoder;
    // Always set: other dispatchers (tfjs's path, the fused optimizer) share the pass.
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(program.dispatch[0], program.dispatch[1], program.dispatch[2]);
    this.dispatchCountInPass++;
    if ((tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= this.dispatchCountInPass) {
      this.endComputePassEncoder();
      this.submitQueue();
    }
  };

  // Pool order: tfjs pops the most recently released buffer of a size, so the buffers a step gets
  // depend on the order earlier steps released theirs, and bind groups would rarely repeat. Taking
  // the free buffer with the smallest id makes the choice depend only on which buffers are free.
  const pool = be.bufferManager as unknown as PoolLike;
  if (pool.freeBuffers instanceof Map && typeof pool.acquireBuffer === 'function') {
    const tfjsAcquire = pool.acquireBuffer;
    pool.acquireBuffer = function (this: PoolLike, size: number, usage: number, mapped = false, reuse = true) {
      const free = reuse && !mapped ? this.freeBuffers.get(`${size}_${usage}`) : undefined;
      if (free && free.length > 1) {
        let best = free.length - 1;
        let bestId = objectId(free[best]);
        for (let i = free.length - 2; i >= 0; i--) {
          const id = objectId(free[i]);
          if (id < bestId) {
            best = i;
            bestId = id;
          }
        }
        if (best !== free.length - 1) [free[best], free[free.length - 1]] = [free[free.length - 1], free[best]];
      }
      return tfjsAcquire.call(this, size, usage, mapped, reuse);
    };
  }

  be.uploadToGPU = function (this: Backend, dataId: object) {
    const data = this.tensorMap.get(dataId);
    const size = 4 * sizeOf(data.shape);
    const plain = data.dtype === 'float32' || data.dtype === 'int32' || data.dtype === 'bool';
    if (data.resource != null || !data.values || !plain || size === 0) return tfjsUpload.call(this, dataId);
    const usage = G.GPUBufferUsage.STORAGE | G.GPUBufferUsage.COPY_SRC | G.GPUBufferUsage.COPY_DST;
    const buffer = this.bufferManager.acquireBuffer(size, usage);
    const v = data.values;
    const view =
      data.dtype === 'int32' || data.dtype === 'bool'
        ? v instanceof Int32Array ? v : Int32Array.from(v)
        : v instanceof Float32Array ? v : Float32Array.from(v);
    this.queue.writeBuffer(buffer, 0, view.buffer as ArrayBuffer, view.byteOffset, size);
    data.values = null;
    data.resource = buffer;
  };
  return true;
}

function sizeOf(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of all but the last dimension (tfjs util.computeStrides). */
function strides(shape: number[]): number[] {
  const r = shape.length;
  if (r < 2) return [];
  const s = new Array<number>(r - 1);
  s[r - 2] = shape[r - 1];
  for (let i = r - 3; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}
