// Hooks observe the runner at fixed points (mmcv's Hook); they run in registration order.
import type { Runner } from '../runner';

/** What one training iteration produced (numbers already read back from the device). */
export interface IterOutputs {
  /** Loss terms and other logged scalars from forwardTrain, plus `loss` (the total) and `grad_norm`. */
  values: Record<string, number>;
  /** Seconds for the whole iteration and for waiting on the data loader. */
  time: number;
  dataTime: number;
  /** Learning rate of the first parameter group. */
  lr: number;
}

export interface Hook {
  readonly name: string;
  beforeRun?(runner: Runner): void | Promise<void>;
  beforeEpoch?(runner: Runner): void | Promise<void>;
  afterIter?(runner: Runner, out: IterOutputs): void | Promise<void>;
  afterEpoch?(runner: Runner): void | Promise<void>;
  afterRun?(runner: Runner): void | Promise<void>;
}

/** True when `count` completed units hit an interval of `n` (mmcv's every_n_iters / every_n_epochs). */
export const everyN = (count: number, n: number): boolean => n > 0 && count % n === 0;
