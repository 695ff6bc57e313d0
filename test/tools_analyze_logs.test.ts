import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { calTrainTime, curvePoints, readJsonLog } from '../tools/lib/analyze_logs';

// A log as our LoggerHook/EvalHook write it: 2 epochs x 3 train records, one val record per epoch,
// preceded by an mmdet-style header line without `mode` (skipped).
function writeLog(dir: string): string {
  const lines: object[] = [{ env_info: 'x', config: 'y' }];
  const times = [[1.0, 0.5, 0.7], [0.9, 0.4, 0.4]];
  let g = 0;
  times.forEach((ts, e) => {
    ts.forEach((t, i) => {
      g += 10;
      lines.push({ mode: 'train', epoch: e + 1, iter: (i + 1) * 10, global_iter: g, lr: 0.02, time: t, data_time: 0.01, loss_cls: 1 / g, loss_bbox: 2 / g, loss: 3 / g });
    });
    lines.push({ mode: 'val', epoch: e + 1, iter: g, bbox_mAP: 0.1 * (e + 1) });
  });
  const p = join(dir, '20261129_120000.log.json');
  writeFileSync(p, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return p;
}

describe('tools/analyze_logs', () => {
  it('cal_train_time drops each epoch\'s first record and reports mmdet\'s statistics', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const t = calTrainTime(readJsonLog(writeLog(dir)), 'log');
    // epoch 1: mean(0.5, 0.7) = 0.6; epoch 2: mean(0.4, 0.4) = 0.4
    expect(t.slowestEpoch).toBe(1);
    expect(t.slowestTime).toBeCloseTo(0.6, 12);
    expect(t.fastestEpoch).toBe(2);
    expect(t.fastestTime).toBeCloseTo(0.4, 12);
    expect(t.stdOverEpochs).toBeCloseTo(0.1, 12);
    expect(t.averageIterTime).toBeCloseTo(0.5, 12);
    expect(calTrainTime(readJsonLog(join(dir, '20261129_120000.log.json')), 'log', true).slowestTime).toBeCloseTo(2.2 / 3, 12);
  });

  it('curve points: train keys from train records, metrics from val records, over the global iteration', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const path = writeLog(dir);
    const pts = curvePoints([{ path, records: readJsonLog(path) }], ['loss_cls', 'bbox_mAP']);
    expect(pts.filter((p) => p.series.endsWith('_loss_cls')).map((p) => p.iter)).toEqual([10, 20, 30, 40, 50, 60]);
    expect(pts.filter((p) => p.series === '20261129_120000_bbox_mAP').map((p) => [p.iter, p.value])).toEqual([
      [30, 0.1],
      [60, 0.2],
    ]);
    expect(() => curvePoints([{ path, records: readJsonLog(path) }], ['loss_mask'])).toThrow(/key 'loss_mask' is in no record; logged keys: .*loss_cls/);
  });

  it('plot_curve writes a PNG from the CLI; cal_train_time prints mmdet\'s lines; a bad key is one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logs-'));
    const path = writeLog(dir);
    const out = join(dir, 'curve.png');
    const text = execFileSync('tools/analyze_logs', ['plot_curve', path, '--keys', 'loss_cls', 'loss_bbox', '--out', out], { encoding: 'utf8' });
    expect(text).toMatch(/plotted loss_cls, loss_bbox of 1 log\(s\) \(12 points\)/);
    const png = PNG.sync.read(readFileSync(out));
    expect(png.width).toBeGreaterThan(500);
    // not a blank canvas: the two series are drawn in different colours
    const colours = new Set<number>();
    for (let i = 0; i < png.data.length; i += 4) colours.add((png.data[i] << 16) | (png.data[i + 1] << 8) | png.data[i + 2]);
    expect(colours.size).toBeGreaterThan(20);
    const t = execFileSync('tools/analyze_logs', ['cal_train_time', path], { encoding: 'utf8' });
    expect(t).toContain('slowest epoch 1, average time is 0.6000');
    expect(t).toContain('average iter time: 0.5000 s/iter');
    const bad = spawnSync('tools/analyze_logs', ['plot_curve', path, '--keys', 'mIoU', '--out', out], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^error: .*key 'mIoU' is in no record/);
  });
});
