// SGD and AdamW with PyTorch's update rules (torch.optim.SGD, torch.optim.AdamW, single-tensor path).
// State tensors live in tf.Variables, so the live tensor count is constant after the first step.
// Two paths with the same numbers:
// - fused (default where a kernel is registered: cpu, webgpu): one kernel call per step updates every
//   parameter and its state in place (ops/optimizer_update.ts; on webgpu one dispatch per parameter,
//   hyper-parameters as uniforms, no scalar uploads);
// - op by op (wasm, whose SIMD ops are faster than a JS loop, webgl, tensorflow, or fused: false /
//   TVD_FUSED_OPTIMIZER=0): element-wise tf ops
//   per parameter, results assign()ed.
// State names and layout are the same on both (checkpoints load either way).
import * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../core/config_root';
import { CheckpointError } from '../core/errors';
import { FUSED_ADAMW, FUSED_SGD, adamwHyper, registerFusedOptimizerCpu, sgdHyper } from '../ops/optimizer_update';
import { registerFusedOptimizerWebgpu } from '../ops/webgpu/optimizer_update_webgpu';
import type { Module } from '../nn/module';
import { buildParamEntries, type ParamEntry } from './param_groups';

registerFusedOptimizerCpu();
registerFusedOptimizerWebgpu();

/** Whether the environment turns the fused update off (TVD_FUSED_OPTIMIZER=0): the "before" side of a benchmark. */
const fusedDisabledByEnv = (): boolean => typeof process !== 'undefined' && process.env?.TVD_FUSED_OPTIMIZER === '0';

/**
 * Makes `v` the only owner of its storage (backend refCount 1), copying it if another tensor shares
 * it (e.g. right after assign(t) while t is alive), so an in-place update cannot change that tensor.
 */
function ensureExclusive(v: tf.Variable): void {
  const be = tf.backend() as unknown as { refCount?(id: object): number };
  if (!be.refCount || be.refCount(v.dataId as object) <= 1) return;
  const copy = tf.tidy(() => tf.mul(v, tf.scalar(1, v.dtype)));
  v.assign(copy);
  copy.dispose();
}

export interface OptimizerOptions {
  /** Use the fused in-place kernel where the backend has one (default true). */
  fused?: boolean;
}

export abstract class Optimizer {
  /** Completed optimizer steps. */
  steps = 0;
  /** Per-parameter state: name -> buffer name -> variable (PyTorch names: momentum_buffer, exp_avg...). */
  protected readonly state = new Map<string, Map<string, tf.Variable>>();
  /** Whether the fused kernel may be used (it also needs a kernel for the current backend). */
  readonly fused: boolean;

  constructor(
    readonly params: ParamEntry[],
    opts: OptimizerOptions = {},
  ) {
    this.fused = (opts.fused ?? true) && !fusedDisabledByEnv();
  }

  /** The fused kernel's name if this step can use it: registered for the backend, float32 parameters. */
  protected fusedKernel(name: string): string | null {
    if (!this.fused || !tf.getKernel(name, tf.getBackend())) return null;
    return this.params.every((p) => p.variable.dtype === 'float32') ? name : null;
  }

  /** Applies one update. `grads` by parameter name; `lrs[i]` is the scheduled lr of params[i]. */
  abstract step(grads: Record<string, tf.Tensor>, lrs: number[]): void;
  /** Hyper-parameters, recorded in checkpoints. */
  abstract hyperParams(): Record<string, unknown>;

  protected buffer(name: string, key: string, init: () => tf.Tensor): { v: tf.Variable; fresh: boolean } {
    let m = this.state.get(name);
    if (!m) this.state.set(name, (m = new Map()));
    const v = m.get(key);
    if (v) return { v, fresh: false };
    // The variable takes over init's storage; disposing init leaves it the only owner.
    const t = tf.tidy(init);
    const nv = tf.variable(t, false);
    t.dispose();
    m.set(key, nv);
    return { v: nv, fresh: true };
  }

  /** State tensors as [paramName, bufferName, variable]. */
  stateEntries(): [string, string, tf.Variable][] {
    const out: [string, string, tf.Variable][] = [];
    for (const p of this.params) for (const [k, v] of this.state.get(p.name) ?? []) out.push([p.name, k, v]);
    return out;
  }

  /** Restores state from tensors in our layout; `steps` is the completed step count. */
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
    opts: OptimizerOptions = {},
  ) {
    super(params, opts);
    if (nesterov && (momentum <= 0 || dampening !== 0)) throw new Error('SGD: nesterov needs momentum > 0 and dampening 0');
  }

  step(grads: Record<string, tf.Tensor>, lrs: number[]): void {
    if (this.fusedKernel(FUSED_SGD)) this.fusedStep(grads, lrs);
    else this.opStep(grads, lrs);
    this.steps++;
  }

  /** One TvdFusedSGD call for all parameters with a gradient. */
  private fusedStep(grads: Record<string, tf.Tensor>, lrs: number[]): void {
    const inputs: Record<string, tf.Tensor> = {};
    const hyper: number[] = [];
    let k = 0;
    this.params.forEach((p, i) => {
      const g = grads[p.name];
      if (!g) return;
      ensureExclusive(p.variable);
      inputs[`p${k}`] = p.variable;
      inputs[`g${k}`] = g;
      let first = false;
      if (this.momentum !== 0) {
        // Zeros, not a clone of the gradient: the kernel writes the buffer in place (first step: buf = d).
        const { v: buf, fresh } = this.buffer(p.name, 'momentum_buffer', () => tf.zerosLike(p.variable));
        ensureExclusive(buf);
        inputs[`b${k}`] = buf;
        first = fresh;
      }
      hyper.push(...sgdHyper(lrs[i], p.weightDecay, this.momentum, this.dampening, first));
      k++;
    });
    const flags = { momentum: this.momentum !== 0, dampening: this.dampening !== 0, nesterov: this.nesterov };
    tf.engine().runKernel(FUSED_SGD, inputs as unknown as tf.NamedTensorMap, { count: k, hyper, flags } as unknown as tf.NamedAttrMap);
  }

  /** The op-by-op update (backends without the fused kernel). */
  private opStep(grads: Record<string, tf.Tensor>, lrs: number[]): void {
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
    opts: OptimizerOptions = {},
  ) {
    super(params, opts);
  }

  step(grads: Record<string, tf.Tensor>, lrs: number[]): void {
    if (this.fusedKernel(FUSED_ADAMW)) this.fusedStep(grads, lrs);
    else this.opStep(grads, lrs);
    this.steps++;
  }

  /** One TvdFusedAdamW call for all parameters with a gradient. */
  private fusedStep(grads: Record<string, tf.Tensor>, lrs: number[]): void {
    const t = this.steps + 1;
    const inputs: Record<string, tf.Tensor> = {};
    const hyper: number[] = [];
    let k = 0;
    this.params.forEach((p, i) => {
      const g = grads[p.name];
      if (!g) return;
      const m = this.buffer(p.name, 'exp_avg', () => tf.zerosLike(p.variable)).v;
      const v = this.buffer(p.name, 'exp_avg_sq', () => tf.zerosLike(p.variable)).v;
      for (const x of [p.variable, m, v]) ensureExclusive(x);
      Object.assign(inputs, { [`p${k}`]: p.variable, [`g${k}`]: g, [`m${k}`]: m, [`v${k}`]: v });
      hyper.push(...adamwHyper(lrs[i], p.weightDecay, this.betas, this.eps, t));
      k++;
    });
    tf.engine().runKernel(FUSED_ADAMW, inputs as unknown as tf.NamedTensorMap, { count: k, hyper } as unknown as tf.NamedAttrMap);
  }

  /** The op-by-op update (backends without the fused kernel). */
  private opStep(grads: Record<string, tf.Tensor>, lrs: number[]): void {
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
  }

  hyperParams(): Record<string, unknown> {
    return { type: 'AdamW', betas: this.betas, eps: this.eps };
  }
}

/** Builds the optimizer of `cfg.optimizer` over `module`'s trainable parameters. */
export function buildOptimizer(module: Module, cfg: OptimizerConfig, opts: OptimizerOptions = {}): Optimizer {
  const wd = cfg.weight_decay ?? (cfg.type === 'AdamW' ? 0.01 : 0);
  const params = buildParamEntries(module, cfg.lr, wd, cfg.paramwise_cfg);
  if (cfg.type === 'SGD') return new SGD(params, cfg.momentum ?? 0, cfg.dampening ?? 0, cfg.nesterov ?? false, opts);
  return new AdamW(params, (cfg.betas as [number, number] | undefined) ?? [0.9, 0.999], cfg.eps ?? 1e-8, opts);
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
