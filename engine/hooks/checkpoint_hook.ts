// Saves `iter_<n>.safetensors` / `epoch_<n>.safetensors` every `interval` units and at the end, keeps
// `latest.safetensors` pointing at the newest and prunes old files beyond max_keep_ckpts.
import { existsSync, rmSync } from '#platform/fs';
import { join } from '#platform/path';
import type { Runner } from '../runner';
import { everyN, type Hook } from './hook';

export class CheckpointHook implements Hook {
  readonly name = 'CheckpointHook';
  private readonly saved: string[] = [];

  /**
   * `opts`: the `checkpoint_config` fields (mmcv CheckpointHook): max_keep_ckpts (default -1: keep
   * all), save_optimizer (default true), save_last (default true).
   */
  constructor(
    readonly interval: number,
    readonly byEpoch: boolean,
    readonly opts: { max_keep_ckpts?: number; save_optimizer?: boolean; save_last?: boolean } = {},
  ) {}

  private async save(runner: Runner): Promise<void> {
    const name = this.byEpoch ? `epoch_${runner.epoch}.safetensors` : `iter_${runner.iter}.safetensors`;
    const path = join(runner.workDir, name);
    await runner.saveCheckpoint(path, { optimizer: this.opts.save_optimizer ?? true, latest: true });
    if (!this.saved.includes(path)) this.saved.push(path);
    const maxKeep = this.opts.max_keep_ckpts ?? -1;
    while (runner.writesFiles && maxKeep > 0 && this.saved.length > maxKeep) {
      const old = this.saved.shift()!;
      if (existsSync(old)) rmSync(old);
    }
  }

  async afterIter(runner: Runner): Promise<void> {
    if (!this.byEpoch && everyN(runner.iter, this.interval)) await this.save(runner);
  }

  async afterEpoch(runner: Runner): Promise<void> {
    // Epoch-mode runs at an epoch boundary, so `runner.epoch` is the number of completed epochs.
    if (this.byEpoch && everyN(runner.epoch, this.interval)) await this.save(runner);
  }

  async afterRun(runner: Runner): Promise<void> {
    if (this.opts.save_last === false) return;
    const name = this.byEpoch ? `epoch_${runner.epoch}.safetensors` : `iter_${runner.iter}.safetensors`;
    if (!existsSync(join(runner.workDir, name))) await this.save(runner);
  }
}
