// mmcv's TensorboardLoggerHook for our runner: `log_config.hooks: [{type: 'TensorboardLoggerHook'}]`
// makes every record the logger writes to `<ts>.log.json` also a TensorBoard scalar event under
// `<work_dir>/tf_logs` (mmcv's default log_dir). Tags as mmcv: `train/<loss>`, `learning_rate`,
// `val/<metric>`; step = the global iteration.
import { join } from 'node:path';
import { EventFileWriter } from '../tfevents';
import type { LogSink } from '../log_writer';

/** Fields of a log record that are bookkeeping, not curves. */
const NOT_SCALARS = new Set(['mode', 'epoch', 'iter', 'global_iter', 'lr', 'time', 'data_time', 'memory', 'num_tensors']);

/** TensorBoard tag -> value for one `.log.json` record (mmcv TensorboardLoggerHook.log naming). */
export function recordToScalars(record: Record<string, unknown>): Record<string, number> {
  const mode = typeof record.mode === 'string' ? record.mode : 'train';
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(record)) {
    if (NOT_SCALARS.has(k) || typeof v !== 'number') continue;
    out[`${mode}/${k}`] = v;
  }
  if (typeof record.lr === 'number') out.learning_rate = record.lr;
  if (mode === 'train') for (const k of ['time', 'data_time'] as const) if (typeof record[k] === 'number') out[`train/${k}`] = record[k] as number;
  return out;
}

/** A LogSink that forwards everything to `inner` and writes each JSON record as TensorBoard scalars. */
export class TensorboardLogSink implements LogSink {
  readonly writer: EventFileWriter;
  constructor(
    private readonly inner: LogSink,
    logDir: string,
  ) {
    this.writer = new EventFileWriter(logDir);
  }
  info(line: string): void {
    this.inner.info(line);
  }
  json(record: Record<string, unknown>): void {
    this.inner.json(record);
    const step = typeof record.global_iter === 'number' ? record.global_iter : typeof record.iter === 'number' ? record.iter : 0;
    this.writer.addScalars(step, recordToScalars(record));
  }
  progress(done: number, total: number, note: string): void {
    this.inner.progress(done, total, note);
  }
}

export interface LoggerHookCfg {
  type: string;
  log_dir?: string;
  [k: string]: unknown;
}

const KNOWN = new Set(['TextLoggerHook', 'TensorboardLoggerHook']);

/**
 * The run's LogSink with `log_config.hooks` applied: TextLoggerHook is the base sink itself;
 * TensorboardLoggerHook adds event files under `log_dir` (default `<workDir>/tf_logs`).
 * Throws Error naming `log_config.hooks[i].type` for a hook type we do not have.
 */
export function applyLoggerHooks(log: LogSink, hooks: readonly LoggerHookCfg[] | undefined, workDir: string): LogSink {
  let sink = log;
  (hooks ?? []).forEach((h, i) => {
    if (!KNOWN.has(h.type)) throw new Error(`log_config.hooks[${i}].type: '${h.type}' is not one of ${[...KNOWN].join(', ')}`);
    if (h.type === 'TensorboardLoggerHook') sink = new TensorboardLogSink(sink, h.log_dir ?? join(workDir, 'tf_logs'));
  });
  return sink;
}
