// Loader workers in browsers (see platform/README.md): not offered; the loader decodes in-thread.
import { PlatformError } from '../errors';

export interface Worker {
  postMessage(msg: unknown, transfer?: unknown[]): void;
  on(ev: string, fn: (...a: unknown[]) => void): void;
  terminate(): Promise<number>;
}

export function spawnWorker(_workerData: unknown): Worker {
  throw new PlatformError('data loader worker threads are not available in the browser; set data.workers_per_gpu: 0');
}
