// Evaluates on the validation set every `interval` iterations/epochs, logs the metrics and keeps a
// `best_<metric>.safetensors` checkpoint (the runner writes it, as a hard link to the same-iteration
// checkpoint when one is saved). Register it before the CheckpointHook so checkpoints carry the metrics.
import { existsSync } from '#platform/fs';
import { join } from '#platform/path';
import type { Runner } from '../runner';
import { everyN, type Hook } from './hook';

export class EvalHook implements Hook {
  readonly name = 'EvalHook';

  constructor(
    readonly interval: number,
    readonly byEpoch: boolean,
    readonly metric: string[],
    /** Metric key to track; 'auto' takes the first metric returned; null disables. */
    readonly saveBest: string | null,
    readonly rule: 'greater' | 'less' | null,
  ) {}

  private async run(runner: Runner): Promise<void> {
    let metrics: Record<string, number>;
    try {
      metrics = await runner.evaluate(this.metric);
    } catch (e) {
      // Nothing trained is lost: the state is saved (as the checkpoint hook would name it) before the
      // evaluation error is reported.
      const path = join(runner.workDir, this.byEpoch ? `epoch_${runner.epoch}.safetensors` : `iter_${runner.iter}.safetensors`);
      if (!existsSync(path)) await runner.saveCheckpoint(path, { optimizer: true, latest: true });
      runner.log.info(`evaluation failed at ${this.byEpoch ? `epoch ${runner.epoch}` : `iter ${runner.iter}`}; the trained state is saved to ${path} (resume with --resume-from)`);
      throw e;
    }
    runner.metrics = metrics;
    const where = this.byEpoch ? `Epoch(val) [${runner.epoch}]` : `Iter(val) [${runner.iter}]`;
    runner.log.info(`${where}\t${Object.entries(metrics).map(([k, v]) => `${k}: ${v.toFixed(4)}`).join(', ')}`);
    runner.log.json({ mode: 'val', epoch: runner.epoch, iter: runner.iter, ...metrics });
    if (this.saveBest === null) return;
    const key = this.saveBest === 'auto' ? Object.keys(metrics)[0] : this.saveBest;
    if (key === undefined) return;
    if (!(key in metrics)) {
      runner.log.info(`evaluation.save_best: metric '${key}' not among the evaluated metrics (${Object.keys(metrics).join(', ')}); best checkpoint not tracked`);
      return;
    }
    const rule = this.rule ?? (/loss/i.test(key) ? 'less' : 'greater');
    const value = metrics[key];
    const prev = runner.best;
    const better = !prev || prev.metric !== key || (rule === 'greater' ? value > prev.value : value < prev.value);
    if (!better) return;
    runner.best = { metric: key, value, iter: runner.iter };
    // Written after this iteration's hooks: linked to the regular checkpoint if one is saved now.
    runner.bestPending = join(runner.workDir, `best_${key.replace(/[^\w.-]/g, '_')}.safetensors`);
    runner.log.info(`best ${key} ${value.toFixed(4)} at ${this.byEpoch ? `epoch ${runner.epoch}` : `iter ${runner.iter}`}`);
  }

  async afterIter(runner: Runner): Promise<void> {
    if (!this.byEpoch && everyN(runner.iter, this.interval)) await this.run(runner);
  }

  async afterEpoch(runner: Runner): Promise<void> {
    if (this.byEpoch && everyN(runner.epoch, this.interval)) await this.run(runner);
  }
}
