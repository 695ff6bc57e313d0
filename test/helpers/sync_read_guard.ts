// A guard that makes synchronous tensor reads throw while a function runs, for tests that keep a code
// path asynchronous (what the webgpu backend under Node requires). Two traps:
// - tf.engine().readSync, through which every Tensor.dataSync / arraySync / bufferSync goes, throws;
// - the backend's own readSync throws when called outside a kernel (engine kernelDepth 0) and outside
//   the backend's asynchronous read, so model code cannot bypass the first trap with
//   tf.backend().readSync. Registered kernels (which may read host memory on cpu/wasm) still work.
// Asynchronous reads (Tensor.data / array, i.e. engine.read) are counted.
import * as tf from '@tensorflow/tfjs';

interface EngineLike {
  readSync(dataId: unknown): unknown;
  read(dataId: unknown): Promise<unknown>;
  state: { kernelDepth: number };
}
interface BackendLike {
  readSync(...args: unknown[]): unknown;
  read(...args: unknown[]): Promise<unknown>;
}

export class SyncReadError extends Error {}

/**
 * Runs `fn` on the current backend with synchronous reads forbidden (see above). Returns its value and
 * the number of asynchronous reads it made. The traps are removed afterwards, also when `fn` throws.
 */
export async function withoutSyncReads<T>(fn: () => Promise<T>): Promise<{ value: T; asyncReads: number }> {
  const engine = tf.engine() as unknown as EngineLike;
  const backend = tf.backend() as unknown as BackendLike;
  let asyncReads = 0;
  let inAsyncRead = 0;
  const fail = (how: string) => {
    throw new SyncReadError(`synchronous tensor read (${how}) in a path that must stay asynchronous; use await tensor.data()`);
  };
  engine.readSync = () => fail('dataSync/arraySync/bufferSync');
  engine.read = function (this: EngineLike, dataId: unknown) {
    asyncReads++;
    return Object.getPrototypeOf(engine).read.call(this, dataId);
  };
  backend.readSync = function (this: BackendLike, ...args: unknown[]) {
    if (engine.state.kernelDepth === 0 && inAsyncRead === 0) fail('backend.readSync outside a kernel');
    return Object.getPrototypeOf(backend).readSync.apply(this, args);
  };
  // A backend's async read may call its readSync synchronously (cpu, wasm): allowed.
  backend.read = function (this: BackendLike, ...args: unknown[]) {
    inAsyncRead++;
    try {
      return Object.getPrototypeOf(backend).read.apply(this, args);
    } finally {
      inAsyncRead--;
    }
  };
  try {
    return { value: await fn(), asyncReads };
  } finally {
    for (const k of ['readSync', 'read'] as const) {
      delete (engine as unknown as Record<string, unknown>)[k];
      delete (backend as unknown as Record<string, unknown>)[k];
    }
  }
}
