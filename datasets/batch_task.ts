/** One unit of loader work (a batch), shared by the in-thread path and the workers. */
import { collate } from './collate';
import type { Pipeline } from './pipeline';
import type { Batch, RawSample, Sample } from './types';

export interface WorkerTask {
  id: number;
  raws: RawSample[];
  seeds: number[];
}

export interface WorkerError {
  name: string;
  message: string;
  file?: string;
  problem?: string;
  stack?: string;
}

export interface WorkerReply {
  id: number;
  batch?: Batch;
  error?: WorkerError;
  /** Samples dropped for bad data (skipBad), as "file: problem" lines. */
  skipped: string[];
}

export async function runBatch(pipeline: Pipeline, task: WorkerTask, sizeDivisor: number, skipBad: boolean): Promise<WorkerReply> {
  const samples: Sample[] = [];
  const skipped: string[] = [];
  try {
    for (let i = 0; i < task.raws.length; i++) {
      try {
        samples.push(await pipeline.run(task.raws[i], task.seeds[i]));
      } catch (e) {
        if (skipBad && (e as Error).name === 'DatasetError') skipped.push((e as Error).message);
        else throw e;
      }
    }
    if (samples.length === 0) return { id: task.id, skipped };
    return { id: task.id, batch: collate(samples, sizeDivisor), skipped };
  } catch (e) {
    const err = e as Error & { file?: string; problem?: string };
    return { id: task.id, skipped, error: { name: err.name, message: err.message, file: err.file, problem: err.problem, stack: err.stack } };
  }
}
