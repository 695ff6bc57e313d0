// Reading `<timestamp>.log.json` training logs (ours or mmdetection's: one JSON object per line) and
// the two analyses of mmdetection's tools/analysis_tools/analyze_logs.py: train-time statistics
// (cal_train_time) and metric/loss curves (plot_curve).
import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../../core/errors';

export interface LogRecord {
  mode: 'train' | 'val' | string;
  epoch: number;
  /** Global iteration: `global_iter` when logged (ours), else `iter` (mmdet logs iterations within an epoch). */
  step: number;
  values: Record<string, number>;
}

/**
 * Records of a JSON-lines log; lines without `mode` (mmdet's env_info/config header) are skipped.
 * Throws UserError naming the file and line for a line that is not JSON.
 */
export function readJsonLog(path: string): LogRecord[] {
  if (!existsSync(path)) throw new UserError(`${path}: no such log file`);
  const out: LogRecord[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let r: Record<string, unknown>;
      try {
        r = JSON.parse(line);
      } catch {
        throw new UserError(`${path}:${i + 1}: not a JSON object (expected one record per line, as <timestamp>.log.json)`);
      }
      if (typeof r.mode !== 'string') return;
      const values: Record<string, number> = {};
      for (const [k, v] of Object.entries(r)) if (typeof v === 'number') values[k] = v;
      out.push({ mode: r.mode, epoch: Number(r.epoch ?? 0), step: Number(r.global_iter ?? r.iter ?? 0), values });
    });
  return out;
}

export interface TrainTime {
  slowestEpoch: number;
  slowestTime: number;
  fastestEpoch: number;
  fastestTime: number;
  /** Population std of the per-epoch mean iteration times (numpy's np.std). */
  stdOverEpochs: number;
  /** Mean of every kept iteration time (s/iter). */
  averageIterTime: number;
}

/**
 * mmdet cal_train_time: per epoch the mean of the logged train `time` values, dropping each
 * epoch's first record unless `includeOutliers` (it carries start-up cost). Throws UserError when
 * the log has no train records with `time`.
 */
export function calTrainTime(records: readonly LogRecord[], source: string, includeOutliers = false): TrainTime {
  const byEpoch = new Map<number, number[]>();
  for (const r of records) {
    if (r.mode !== 'train' || r.values.time === undefined) continue;
    if (!byEpoch.has(r.epoch)) byEpoch.set(r.epoch, []);
    byEpoch.get(r.epoch)!.push(r.values.time);
  }
  const epochs = [...byEpoch.entries()]
    .map(([e, ts]) => [e, includeOutliers || ts.length < 2 ? ts : ts.slice(1)] as const)
    .sort((a, b) => a[0] - b[0]);
  if (!epochs.length) throw new UserError(`${source}: no train records with 'time' (is this a training .log.json?)`);
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const avg = epochs.map(([, ts]) => mean(ts));
  const mu = mean(avg);
  const slow = avg.indexOf(Math.max(...avg));
  const fast = avg.indexOf(Math.min(...avg));
  return {
    slowestEpoch: epochs[slow][0],
    slowestTime: avg[slow],
    fastestEpoch: epochs[fast][0],
    fastestTime: avg[fast],
    stdOverEpochs: Math.sqrt(mean(avg.map((a) => (a - mu) ** 2))),
    averageIterTime: mean(epochs.flatMap(([, ts]) => ts)),
  };
}

/** The text mmdet prints for one log. */
export function formatTrainTime(path: string, t: TrainTime): string {
  return [
    `-----Analyze train time of ${path}-----`,
    `slowest epoch ${t.slowestEpoch}, average time is ${t.slowestTime.toFixed(4)}`,
    `fastest epoch ${t.fastestEpoch}, average time is ${t.fastestTime.toFixed(4)}`,
    `time std over epochs is ${t.stdOverEpochs.toFixed(4)}`,
    `average iter time: ${t.averageIterTime.toFixed(4)} s/iter`,
  ].join('\n');
}

export interface CurvePoint {
  series: string;
  iter: number;
  value: number;
}

/**
 * Points of `keys` over the global iteration, one series per (log, key): train keys (losses, lr)
 * from train records, metric keys (bbox_mAP, mIoU) from val records, as plot_curve draws them.
 * `legend` names the series (default `<log file stem>_<key>`; mmdet uses `<json path>_<key>`).
 * Throws UserError naming a key present in none of the records, with the keys that are logged.
 */
export function curvePoints(logs: readonly { path: string; records: readonly LogRecord[] }[], keys: readonly string[], legend?: readonly string[]): CurvePoint[] {
  const pts: CurvePoint[] = [];
  if (legend && legend.length !== logs.length * keys.length) throw new UserError(`--legend: expected ${logs.length * keys.length} names (logs x keys), got ${legend.length}`);
  logs.forEach(({ path, records }, li) => {
    keys.forEach((key, ki) => {
      const name = legend?.[li * keys.length + ki] ?? `${path.split('/').pop()!.replace(/\.log\.json$|\.json$/, '')}_${key}`;
      const rows = records.filter((r) => r.values[key] !== undefined);
      if (!rows.length) {
        const avail = [...new Set(records.flatMap((r) => Object.keys(r.values)))].filter((k) => !['epoch', 'iter', 'global_iter'].includes(k));
        throw new UserError(`${path}: key '${key}' is in no record; logged keys: ${avail.join(', ')}`);
      }
      // A metric logged in val records is plotted from them; a train key from train records.
      const mode = rows.some((r) => r.mode === 'train') ? 'train' : rows[0].mode;
      for (const r of rows) if (r.mode === mode) pts.push({ series: name, iter: r.step, value: r.values[key] });
    });
  });
  return pts;
}

/** Vega-Lite line chart of curve points (x: iter, y: value, colour: series). */
export function curveSpec(points: readonly CurvePoint[], title?: string): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(title ? { title } : {}),
    width: 560,
    height: 320,
    background: 'white',
    data: { values: points },
    mark: { type: 'line', point: points.length <= 60 },
    encoding: {
      x: { field: 'iter', type: 'quantitative', title: 'iter' },
      y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}
