// Fused optimizer updates for tfjs-backend-webgpu (kernel contract: ops/optimizer_update.ts).
//
// Algorithm: one compute dispatch per parameter; each invocation walks the parameter's elements with a
// grid stride and updates parameter and optimizer state in place (read_write storage bindings), the
// statements of adamwUpdate / sgdUpdate in f32. All per-parameter scalars (lr, decay, bias
// corrections) of one optimizer step go into ONE uniform buffer (a 256-byte-aligned record per
// parameter, bound at its offset), written with one queue.writeBuffer per step: no scalar tensors,
// no per-op uploads.
//
// Why outside tfjs's program path: tfjs binds every program input read-only and has one output, so
// an in-place update of three buffers cannot be a tfjs program. The dispatches are recorded into the
// backend's own command encoder and compute pass (so they stay ordered with tfjs's work), the bound
// tensors are marked as owned by the pending command buffer (so tfjs defers their disposal to the
// submit, as for its own programs), and the backend's submit batching is followed. Under tf.profile
// the whole update runs in one timestamped pass and is reported as one program, FusedOptimizerProgram.
// This relies on tfjs-backend-webgpu 4.22 internals (tensorMap, bufferManager, commandEncoder,
// computePassEncoder, ensureCommandEncoderReady, endComputePassEncoder, submitQueue, activeTimers,
// getQueryTime, uniformPendingDisposal); test/optimizer_fused_webgpu.test.ts runs it on SwiftShader.
import * as tf from '@tensorflow/tfjs';
import { FUSED_ADAMW, FUSED_SGD, HYPER_WIDTH, type SgdFlags } from '../optimizer_update';
import { dispatchCacheOf, layoutOf, objectId } from './dispatch_cache';

const WORKGROUP = 256;
/** Workgroups per dispatch at most; larger tensors are covered by the grid-stride loop. */
const MAX_GROUPS = 4096;
/** Bytes per uniform record: WebGPU's default minUniformBufferOffsetAlignment. */
const RECORD_BYTES = 256;
/** Bytes bound per record: the Hyper struct (36 bytes) rounded up to 16. */
const UNIFORM_BINDING_BYTES = 48;

/* eslint-disable @typescript-eslint/no-explicit-any */
type GPU = any;

interface TensorData {
  resource: GPU;
}
interface WebGPUBackendInternals {
  device: GPU;
  queue: GPU;
  tensorMap: { get(id: object): TensorData };
  bufferManager: { acquireBuffer(size: number, usage: number): GPU };
  uniformPendingDisposal: GPU[];
  commandQueueOwnedIds: WeakSet<object>;
  commandEncoder: GPU;
  computePassEncoder: GPU;
  dispatchCountInPass: number;
  activeTimers: { name: string; query: Promise<number> }[] | null | undefined;
  supportTimestampQuery: boolean;
  querySet: GPU;
  querySetCount: number;
  uploadToGPU(id: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  getQueryTime(): Promise<number>;
}

const HYPER_STRUCT = `
struct Hyper {
  size : u32,
  h0 : f32, h1 : f32, h2 : f32, h3 : f32, h4 : f32, h5 : f32, h6 : f32, h7 : f32,
};`;

/** AdamW: the statements of adamwUpdate (ops/optimizer_update.ts); h0 = hasDecay ... h7 = lr / bc1. */
const ADAMW_WGSL = `${HYPER_STRUCT}
@group(0) @binding(0) var<storage, read_write> P : array<f32>;
@group(0) @binding(1) var<storage, read_write> M : array<f32>;
@group(0) @binding(2) var<storage, read_write> V : array<f32>;
@group(0) @binding(3) var<storage, read> G : array<f32>;
@group(0) @binding(4) var<uniform> hp : Hyper;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(num_workgroups) nwg : vec3<u32>) {
  let stride = nwg.x * ${WORKGROUP}u;
  for (var i = gid.x; i < hp.size; i = i + stride) {
    let g = G[i];
    var decayed = P[i];
    if (hp.h0 != 0.0) {
      decayed = decayed * hp.h1;
    }
    let m0 = M[i];
    let m1 = m0 + (g - m0) * hp.h2;
    let v1 = V[i] * hp.h3 + (g * g) * hp.h4;
    let denom = sqrt(v1) / hp.h5 + hp.h6;
    M[i] = m1;
    V[i] = v1;
    P[i] = decayed - (m1 / denom) * hp.h7;
  }
}`;

/** SGD: the statements of sgdUpdate; h0 = hasWd, h1 = wd, h2 = lr, h3 = momentum, h4 = 1 - dampening, h5 = first step. */
function sgdWgsl(flags: SgdFlags): string {
  const momentum = flags.momentum
    ? `
    var buf = d;
    if (hp.h5 == 0.0) {
      buf = B[i] * hp.h3 + ${flags.dampening ? 'd * hp.h4' : 'd'};
    }
    B[i] = buf;
    ${flags.nesterov ? 'd = d + buf * hp.h3;' : 'd = buf;'}`
    : '';
  return `${HYPER_STRUCT}
@group(0) @binding(0) var<storage, read_write> P : array<f32>;
@group(0) @binding(1) var<storage, read> G : array<f32>;
@group(0) @binding(2) var<uniform> hp : Hyper;
${flags.momentum ? '@group(0) @binding(3) var<storage, read_write> B : array<f32>;' : ''}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(num_workgroups) nwg : vec3<u32>) {
  let stride = nwg.x * ${WORKGROUP}u;
  for (var i = gid.x; i < hp.size; i = i + stride) {
    let p = P[i];
    var d = G[i];
    if (hp.h0 != 0.0) {
      d = d + p * hp.h1;
    }${momentum}
    P[i] = p - d * hp.h2;
  }
}`;
}

const pipelines = new WeakMap<object, Map<string, GPU>>();

function pipeline(device: GPU, key: string, code: string): GPU {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  let p = cache.get(key);
  if (!p) {
    p = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    cache.set(key, p);
  }
  return p;
}

interface Attrs {
  count: number;
  hyper: number[];
  flags?: SgdFlags;
}

/**
 * Records one dispatch per parameter k: `buffers(k)` lists the tensors bound before the uniform
 * record (in binding order) and `after(k)` those bound after it.
 */
function dispatchAll(be: WebGPUBackendInternals, pipe: GPU, attrs: Attrs, inputs: Record<string, tf.TensorInfo>, before: string[], after: string[], timerName: string): void {
  const n = attrs.count;
  if (n === 0) return;
  const G = globalThis as unknown as { GPUBufferUsage: Record<string, number> };
  const records = new ArrayBuffer(n * RECORD_BYTES);
  for (let k = 0; k < n; k++) {
    const size = tf.util.sizeFromShape(inputs[`p${k}`].shape);
    new Uint32Array(records, k * RECORD_BYTES, 1)[0] = size;
    new Float32Array(records, k * RECORD_BYTES + 4, HYPER_WIDTH).set(attrs.hyper.slice(k * HYPER_WIDTH, (k + 1) * HYPER_WIDTH));
  }
  // With the dispatch cache (dispatch_cache.ts): one persistent uniform buffer per pipeline and
  // parameter count, so the per-parameter bind groups repeat across steps and come from the cache.
  // Its previous record may still be read by dispatches not yet submitted: submit those first, since
  // queue.writeBuffer lands before the next submit.
  const cache = dispatchCacheOf(be);
  let uniform: GPU;
  if (cache) {
    if (be.commandEncoder) {
      be.endComputePassEncoder();
      be.submitQueue();
    }
    uniform = cache.persistentUniform(`opt${objectId(pipe)}x${n}`, records.byteLength);
  } else {
    uniform = be.bufferManager.acquireBuffer(records.byteLength, G.GPUBufferUsage.UNIFORM | G.GPUBufferUsage.COPY_DST);
    be.uniformPendingDisposal.push(uniform);
  }
  be.queue.writeBuffer(uniform, 0, records);

  // Uploads first: uploading a tensor whose values are still on the host ends the current compute
  // pass (tfjs records a buffer copy), so it must not happen between our dispatches.
  const bound: tf.TensorInfo[][] = [];
  for (let k = 0; k < n; k++) {
    const ts = [...before.map((s) => inputs[`${s}${k}`]), ...after.map((s) => inputs[`${s}${k}`])];
    for (const t of ts) be.uploadToGPU(t.dataId as object);
    bound.push(ts);
  }
  const timed = be.activeTimers != null && be.supportTimestampQuery;
  be.ensureCommandEncoderReady();
  if (timed) {
    be.endComputePassEncoder();
    if (be.querySet == null) be.querySet = be.device.createQuerySet({ type: 'timestamp', count: be.querySetCount });
    be.computePassEncoder = be.commandEncoder.beginComputePass({ timestampWrites: { querySet: be.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
  } else if (!be.computePassEncoder) {
    be.computePassEncoder = be.commandEncoder.beginComputePass({});
  }
  const pass = be.computePassEncoder;
  pass.setPipeline(pipe);
  const layout = layoutOf(pipe);
  for (let k = 0; k < n; k++) {
    const ts = bound[k];
    const order = [...ts.slice(0, before.length), null, ...ts.slice(before.length)];
    let key = `opt${objectId(pipe)}|${objectId(uniform)}@${k}|`;
    const resources = order.map((t) => {
      if (!t) return { buffer: uniform, offset: k * RECORD_BYTES, size: UNIFORM_BINDING_BYTES };
      be.commandQueueOwnedIds.add(t.dataId as object);
      const buffer = be.tensorMap.get(t.dataId as object).resource;
      key += `${objectId(buffer)},`;
      return { buffer };
    });
    const group = cache
      ? cache.bindGroups.get(be.device, key, layout, () => resources)
      : be.device.createBindGroup({ layout, entries: resources.map((resource, binding) => ({ binding, resource })) });
    pass.setBindGroup(0, group);
    const size = tf.util.sizeFromShape(inputs[`p${k}`].shape);
    pass.dispatchWorkgroups(Math.max(1, Math.min(MAX_GROUPS, Math.ceil(size / WORKGROUP))));
  }
  be.dispatchCountInPass += n;
  if (timed) {
    be.endComputePassEncoder();
    be.activeTimers!.push({ name: timerName, query: be.getQueryTime() });
  } else if ((tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= be.dispatchCountInPass) {
    be.endComputePassEncoder();
    be.submitQueue();
  }
}

type Args = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Attrs };

function adamwWebgpu({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const be = backend as WebGPUBackendInternals;
  dispatchAll(be, pipeline(be.device, 'adamw', ADAMW_WGSL), attrs, inputs, ['p', 'm', 'v', 'g'], [], 'FusedOptimizerProgram');
  return [];
}

function sgdWebgpu({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const be = backend as WebGPUBackendInternals;
  const fl = attrs.flags!;
  const key = `sgd_${+fl.momentum}${+fl.dampening}${+fl.nesterov}`;
  dispatchAll(be, pipeline(be.device, key, sgdWgsl(fl)), attrs, inputs, ['p', 'g'], fl.momentum ? ['b'] : [], 'FusedOptimizerProgram');
  return [];
}

let registered = false;

/** Registers the webgpu kernels by name (idempotent; needs no backend loaded). */
export function registerFusedOptimizerWebgpu(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel(FUSED_ADAMW, 'webgpu')) tf.registerKernel({ kernelName: FUSED_ADAMW, backendName: 'webgpu', kernelFunc: adamwWebgpu as never });
  if (!tf.getKernel(FUSED_SGD, 'webgpu')) tf.registerKernel({ kernelName: FUSED_SGD, backendName: 'webgpu', kernelFunc: sgdWebgpu as never });
}
