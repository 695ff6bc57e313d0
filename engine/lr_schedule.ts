// Learning-rate schedules with mmcv's LrUpdaterHook formulas (mmcv 1.x, as mmdet 2.x / mmseg 0.x use):
//   step:  lr = base * gamma^k, k = number of milestones <= progress (or progress // step if one int),
//          clamped below by min_lr if given
//   poly:  lr = (base - min_lr) * (1 - progress / max_progress)^power + min_lr
//   fixed: lr = base
//   CosineAnnealing: lr = target + (base - target) * (1 + cos(pi * progress / max_progress)) / 2,
//          target = min_lr, else base * min_lr_ratio, else 0
// where progress is the epoch (by_epoch, the default) or the iteration. Warmup (by iteration) then
// scales the regular lr for iterations cur < warmup_iters:
//   linear:   lr = regular * (1 - (1 - cur / warmup_iters) * (1 - warmup_ratio))
//   constant: lr = regular * warmup_ratio
//   exp:      lr = regular * warmup_ratio ^ (1 - cur / warmup_iters)
import type { LrConfig } from '../core/config_root';

export interface ScheduleProgress {
  /** Global iteration index about to run (0-based, = completed iterations). */
  iter: number;
  /** Current epoch (0-based). */
  epoch: number;
}

export interface ScheduleLength {
  maxIters: number;
  maxEpochs: number;
}

export class LrSchedule {
  readonly byEpoch: boolean;
  readonly warmup: 'linear' | 'constant' | 'exp' | null;
  readonly warmupIters: number;
  readonly warmupRatio: number;

  constructor(
    readonly cfg: LrConfig,
    readonly length: ScheduleLength,
  ) {
    this.byEpoch = cfg.by_epoch ?? true;
    this.warmup = cfg.warmup ?? null;
    this.warmupIters = cfg.warmup_iters ?? 0;
    this.warmupRatio = cfg.warmup_ratio ?? 0.1;
    if (this.warmup && this.warmupIters <= 0) throw new Error('lr_config: warmup needs warmup_iters > 0');
  }

  /** The lr without warmup for a parameter whose initial lr is `base`. */
  regular(base: number, at: ScheduleProgress): number {
    const progress = this.byEpoch ? at.epoch : at.iter;
    const cfg = this.cfg;
    switch (cfg.policy) {
      case 'fixed':
        return base;
      case 'step': {
        const gamma = cfg.gamma ?? 0.1;
        let k: number;
        if (typeof cfg.step === 'number') k = Math.floor(progress / cfg.step);
        else {
          k = cfg.step.length;
          for (let i = 0; i < cfg.step.length; i++) {
            if (progress < cfg.step[i]) {
              k = i;
              break;
            }
          }
        }
        const lr = base * gamma ** k;
        return cfg.min_lr != null ? Math.max(lr, cfg.min_lr) : lr;
      }
      case 'poly': {
        const max = this.byEpoch ? this.length.maxEpochs : this.length.maxIters;
        const power = cfg.power ?? 1;
        const minLr = cfg.min_lr ?? 0;
        return (base - minLr) * (1 - progress / max) ** power + minLr;
      }
      case 'CosineAnnealing': {
        // mmcv annealing_cos; the target is min_lr, else base * min_lr_ratio, else 0.
        const max = this.byEpoch ? this.length.maxEpochs : this.length.maxIters;
        const target = cfg.min_lr ?? base * (cfg.min_lr_ratio ?? 0);
        return target + ((base - target) * (1 + Math.cos((Math.PI * progress) / max))) / 2;
      }
    }
  }

  /** The lr used by the iteration `at.iter` for a parameter whose initial lr is `base`. */
  at(base: number, at: ScheduleProgress): number {
    const regular = this.regular(base, at);
    if (!this.warmup || at.iter >= this.warmupIters) return regular;
    const cur = at.iter;
    switch (this.warmup) {
      case 'linear':
        return regular * (1 - (1 - cur / this.warmupIters) * (1 - this.warmupRatio));
      case 'constant':
        return regular * this.warmupRatio;
      case 'exp':
        return regular * this.warmupRatio ** (1 - cur / this.warmupIters);
    }
  }

  /** Position and settings, recorded in checkpoints. */
  describe(at: ScheduleProgress): Record<string, unknown> {
    return { ...this.cfg, iter: at.iter, epoch: at.epoch, max_iters: this.length.maxIters, max_epochs: this.length.maxEpochs };
  }
}
