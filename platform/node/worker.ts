// Loader worker threads in Node (see platform/README.md).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export type { Worker };

/**
 * Starts a worker running datasets/worker.ts. tsx (4.23 on Node 20) installs its ESM hooks on
 * the main thread only, so `new Worker(url, { execArgv: process.execArgv })` fails with
 * "Unknown file extension .ts"; the worker instead registers tsx's in-thread CommonJS
 * hook and requires its entry, which works the same under tsx, vitest and plain node.
 */
export function spawnWorker(workerData: unknown): Worker {
  const req = createRequire(import.meta.url);
  const entry = fileURLToPath(new URL('../../datasets/worker.ts', import.meta.url));
  const code = `require(${JSON.stringify(req.resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(entry)});`;
  try {
    return new Worker(code, { eval: true, workerData, execArgv: process.execArgv });
  } catch (e) {
    // Some parent flags (e.g. from a test runner) are not allowed in workers.
    if ((e as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw e;
    return new Worker(code, { eval: true, workerData, execArgv: [] });
  }
}
