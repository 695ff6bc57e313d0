/**
 * Loader worker: builds the pipeline once from workerData, then turns task
 * {id, raws, seeds} into a collated batch, transferred back without copying.
 */
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { runBatch, type WorkerReply, type WorkerTask } from './batch_task';
import { buildPipeline } from './pipeline';
import { batchBuffers } from './collate';

// Each worker is one decoding thread; libvips' own pool would oversubscribe the cores.
sharp.concurrency(1);
const { pipeline: cfg, sizeDivisor, skipBad } = workerData as { pipeline: unknown[]; sizeDivisor: number; skipBad: boolean };
const pipeline = buildPipeline(cfg);
const port = parentPort;
if (!port) throw new Error('datasets/worker.ts must run as a worker thread');

port.on('message', async (task: WorkerTask) => {
  const reply: WorkerReply = await runBatch(pipeline, task, sizeDivisor, skipBad);
  port.postMessage(reply, reply.batch ? batchBuffers(reply.batch) : []);
});
