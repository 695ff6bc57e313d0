// SGD and AdamW with PyTorch's update rules (torch.optim.SGD, torch.optim.AdamW, single-tensor path).
// State tensors live in tf.Variables updated with assign(), so the live tensor count is constant
// after the first step.
import * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../core/config_root';
import { CheckpointError } from '../core/errors';
import type { Module } from '../nn/module';
import { buildParamEntries, type ParamEntry } from './param_groups';

export abstract class Optimizer {
  /** Completed optimizer steps. */
  steps = 0;
  /** Per-parameter state: name -> buffer name -> variable (PyTorch names: momentum_buffer, exp_avg...). */
  protected readonly state = new Map<string, Map<string, tf.Variable>>();

  constructor(readonly params: ParamEntry[]) {}

  /** Applies one update. `grads` by parameter name; `lrs[i]` is the scheduled lr of params[i]. */
  abstract step(grads: Record<string, tf.Tensor>, lrs: number[]): void;
  /** Hyper-parameters, recorded in checkpoints. */
  abstract hyperParams(): Record<string, unknown>;

  protected buffer(name: string, key: string, init: () => tf.Tensor): { v: tf.Variable; fresh: boolean } {
    let m = this.state.get(name);
    if (!m) this.state.set(name, (m = new Map()));
    const v = m.get(key);
    if (v) return { v, fresh: false };
    // The variable takes its own reference to the initial value's data, so the initial tensor is
    // disposed here (a clone made outside a tidy, as in loadState, would otherwise leak).
    const initial = init();
    const nv = tf.variable(initial, false);
    initial.dispose();
    m.set(key, nv);
    return { v: nv, fresh: true };
  }

  /** State tensors as [paramName, bufferName, variable]. */
  stateEntries(): [string, string, tf.Variable][] {
    const out: [string, string, tf.Variable][] = [];
    for (const p of this.params) for (const [k, v] of this.state.get(p.name) ?? []) out.push([p.name, k, v]);
    return out;
  }

  /**
   * Restores state from tensors in our layout; `steps` is the completed step count. The caller keeps
   * ownership of `entries` (values are copied into the optimizer's own variables).
   */
  loadState(entries: [string, string, tf.Tensor][], steps: number): void {
    const byName = new Map(this.params.map((p) => [p.name, p]));
    for (const [name, key, t] of entries) {
      const p = byName.get(name);
      if (!p) throw new CheckpointError(`optimizer state for unknown parameter '${name}'`);
      if (!tf.util.arraysEqual(p.variable.shape, t.shape)) {
        throw new CheckpointError(`optimizer state '${name}.${key}' has shape [${t.shape}] but the parameter has [${p.variable.shape}]`);
      }
      const old = this.state.get(name)?.get(key);
      if (old) old.assign(t);
      else this.buffer(name, key, () => t.clone());
    }
    this.steps = steps;
  }

  /** Live tensors the optimizer owns (its state variables). */
  numTensors(): number {
    let n = 0;
    for (const m of this.state.values()) n += m.size;
    return n;
  }

  dispose(): void {
    for (const m of this.state.values()) for (const v of m.values()) v.dispose();
    this.state.clear();
  }
}

export class SGD extends Optimizer {
  constructor(
    params: ParamEntry[],
    readonly momentum = 0,
    readonly dampening = 0,
    readonly nesterov = false,
  ) {
    super(params);
    if (nesterov && (momentum <= 0 || dampening !== 0)) throw new Error('SGD: nesterov needs momentum > 0 and dampening 0');
  }

  step(grads: Record<string, tf.Tensor>, lrs: number[]): void {
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        let g = grads[p.name];
        if (!g) return;
        if (p.weightDecay !== 0) g = tf.add(g, tf.mul(p.variable, p.weightDecay));
        if (this.momentum !== 0) {
          const grad = g;
          const { v: buf, fresh } = this.buffer(p.name, 'momentum_buffer', () => tf.clone(grad));
          if (!fresh) buf.assign(tf.add(tf.mul(buf, this.momentum), this.dampening ? tf.mul(g, 1 - this.dampening) : g));
          g = this.nesterov ? tf.add(g, tf.mul(buf, this.momentum)) : buf;
        }
        p.variable.assign(tf.sub(p.variable, tf.mul(g, lrs[i])));
      });
    });
    this.steps++;
  }

  hyperParams(): Record<string, unknown> {
    return { type: 'SGD', momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov };
  }
}

export class AdamW extends Optimizer {
  constructor(
    params: ParamEntry[],
    readonly betas: [number, number] = [0.9, 0.999],
    readonly eps = 1e-8,
  ) {
    super(params);
  }

  step(grads: Record<string, tf.Tensor>, lrs: number[]): void {
    const [b1, b2] = this.betas;
    const t = this.steps + 1;
    const bc1 = 1 - b1 ** t;
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = grads[p.name];
        if (!g) return;
        const lr = lrs[i];
        // Decoupled weight decay: p <- p * (1 - lr * wd), before the Adam update.
        const decayed = p.weightDecay !== 0 ? tf.mul(p.variable, 1 - lr * p.weightDecay) : p.variable;
        const m = this.buffer(p.name, 'exp_avg', () => tf.zerosLike(g)).v;
        const v = this.buffer(p.name, 'exp_avg_sq', () => tf.zerosLike(g)).v;
        // exp_avg.lerp_(grad, 1 - beta1); exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
        m.assign(tf.add(m, tf.mul(tf.sub(g, m), 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), this.eps);
        p.variable.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), lr / bc1)));
      });
    });
    this.steps++;
  }

  hyperParams(): Record<string, unknown> {
    return { type: 'AdamW', betas: this.betas, eps: this.eps };
  }
}

/** Builds the optimizer of `cfg.optimizer` over `module`'s trainable parameters. */
export function buildOptimizer(module: Module, cfg: OptimizerConfig): Optimizer {
  const wd = cfg.weight_decay ?? (cfg.type === 'AdamW' ? 0.01 : 0);
  const params = buildParamEntries(module, cfg.lr, wd, cfg.paramwise_cfg);
  if (cfg.type === 'SGD') return new SGD(params, cfg.momentum ?? 0, cfg.dampening ?? 0, cfg.nesterov ?? false);
  return new AdamW(params, (cfg.betas as [number, number] | undefined) ?? [0.9, 0.999], cfg.eps ?? 1e-8);
}

/**
 * torch.nn.utils.clip_grad_norm_: scales all gradients by min(1, max_norm / (total_norm + 1e-6)),
 * where total_norm is the p-norm of the per-gradient p-norms. Returns the new gradients and the total
 * norm (before clipping) as a scalar tensor; computed on device without a sync.
 */
export function clipGradNorm(grads: Record<string, tf.Tensor>, maxNorm: number, normType = 2): { grads: Record<string, tf.Tensor>; totalNorm: tf.Scalar } {
  return tf.tidy(() => {
    const total = gradNorm(grads, normType);
    const coef = tf.minimum(tf.div(maxNorm, tf.add(total, 1e-6)), 1);
    const out: Record<string, tf.Tensor> = {};
    for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, coef);
    return { grads: out, totalNorm: total };
  });
}

/** Global p-norm of a set of gradients (inf-norm for normType = Infinity). */
export function gradNorm(grads: Record<string, tf.Tensor>, normType = 2): tf.Scalar {
  return tf.tidy(() => {
    const gs = Object.values(grads);
    if (!gs.length) return tf.scalar(0);
    if (normType === Infinity) return tf.max(tf.stack(gs.map((g) => tf.max(tf.abs(g))))) as tf.Scalar;
    if (normType === 2) return tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
    return tf.pow(tf.addN(gs.map((g) => tf.sum(tf.pow(tf.abs(g), normType)))), 1 / normType) as tf.Scalar;
  });
}
