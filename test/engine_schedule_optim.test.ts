// Learning rates and optimizer updates against numbers computed by hand from mmcv's and PyTorch's
// formulas (float64 reference values; our updates run in float32).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LrConfig } from '../core/config_root';
import { LrSchedule } from '../engine/lr_schedule';
import { AdamW, clipGradNorm, SGD } from '../engine/optimizers';
import { buildParamEntries, type ParamEntry } from '../engine/param_groups';
import { ToyNet } from './helpers/toy';
import { BatchNorm2d, Conv2d } from '../nn/layers';
import { Module } from '../nn/module';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ITERS_PER_EPOCH = 7330;
const at = (iter: number) => ({ iter, epoch: Math.floor(iter / ITERS_PER_EPOCH) });

describe('1x schedule: linear warmup 500 iters + step at epochs 8 and 11 (by epoch)', () => {
  const make = (ratio: number) =>
    new LrSchedule({ policy: 'step', warmup: 'linear', warmup_iters: 500, warmup_ratio: ratio, step: [8, 11] } as LrConfig, { maxIters: 12 * ITERS_PER_EPOCH, maxEpochs: 12 });

  it('warmup_ratio 1e-6 (TinyViM)', () => {
    const s = make(1e-6);
    // lr = 0.02 * (1 - (1 - i/500) * (1 - 1e-6))
    expect(s.at(0.02, at(0))).toBeCloseTo(2.0e-8, 15);
    expect(s.at(0.02, at(1))).toBeCloseTo(4.001996e-5, 12);
    expect(s.at(0.02, at(250))).toBeCloseTo(0.01000001, 12);
    expect(s.at(0.02, at(499))).toBeCloseTo(0.01996000004, 12);
    expect(s.at(0.02, at(500))).toBe(0.02);
    expect(s.at(0.02, at(8 * ITERS_PER_EPOCH - 1))).toBe(0.02); // last iter of epoch 8 (1-based)
    expect(s.at(0.02, at(8 * ITERS_PER_EPOCH))).toBeCloseTo(0.002, 15); // first iter of epoch 9
    expect(s.at(0.02, at(11 * ITERS_PER_EPOCH - 1))).toBeCloseTo(0.002, 15);
    expect(s.at(0.02, at(11 * ITERS_PER_EPOCH))).toBeCloseTo(0.0002, 15);
    expect(s.at(0.02, at(12 * ITERS_PER_EPOCH - 1))).toBeCloseTo(0.0002, 15);
  });

  it('warmup_ratio 1e-3 (mmdet default)', () => {
    const s = make(1e-3);
    expect(s.at(0.02, at(0))).toBeCloseTo(2.0e-5, 15);
    expect(s.at(0.02, at(1))).toBeCloseTo(5.996e-5, 12);
    expect(s.at(0.02, at(250))).toBeCloseTo(0.01001, 12);
    expect(s.at(0.02, at(499))).toBeCloseTo(0.01996004, 12);
    expect(s.at(0.02, at(500))).toBe(0.02);
    // AdamW 2e-4 with lr_mult 1: the same shape scaled.
    expect(s.at(2e-4, at(250))).toBeCloseTo(1.001e-4, 14);
  });
});

describe('40K poly schedule (power 0.9, by iteration)', () => {
  it('mmseg 0.01 / min_lr 1e-4 and TinyViM 2e-4 / min_lr 1e-6', () => {
    const s1 = new LrSchedule({ policy: 'poly', power: 0.9, min_lr: 1e-4, by_epoch: false } as LrConfig, { maxIters: 40000, maxEpochs: 1 });
    // lr = (base - min_lr) * (1 - i/40000)^0.9 + min_lr
    expect(s1.at(0.01, at(0))).toBeCloseTo(0.01, 15);
    expect(s1.at(0.01, at(10000))).toBeCloseTo(0.0077417061165633485, 14);
    expect(s1.at(0.01, at(20000))).toBeCloseTo(0.005405278639554652, 14);
    expect(s1.at(0.01, at(39999))).toBeCloseTo(0.00010071413645342543, 14);
    const s2 = new LrSchedule({ policy: 'poly', power: 0.9, min_lr: 1e-6, by_epoch: false } as LrConfig, { maxIters: 40000, maxEpochs: 1 });
    expect(s2.at(2e-4, at(10000))).toBeCloseTo(0.00015460601183799053, 15);
    expect(s2.at(2e-4, at(20000))).toBeCloseTo(0.00010764145952236117, 15);
    expect(s2.at(2e-4, at(39999))).toBeCloseTo(1.014354864063804e-6, 16);
  });
});

function param(name: string, values: number[], weightDecay: number, lr: number): ParamEntry {
  return { name, variable: tf.variable(tf.tensor1d(values)), layout: 'plain', baseLr: lr, weightDecay };
}
const GRADS = [
  [0.5, 0.25],
  [-0.1, 0.3],
  [0.2, -0.4],
];

function runSteps(make: (p: ParamEntry) => SGD | AdamW, lr: number, wd: number): number[][] {
  const p = param('w', [1, -2], wd, lr);
  const opt = make(p);
  const out: number[][] = [];
  for (const g of GRADS) {
    const gt = tf.tensor1d(g);
    opt.step({ w: gt }, [lr]);
    gt.dispose();
    out.push(Array.from(p.variable.dataSync()));
  }
  opt.dispose();
  p.variable.dispose();
  return out;
}

function expectClose(got: number[][], want: number[][], tol = 1e-6): void {
  got.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - want[i][j])).toBeLessThan(tol)));
}

describe('optimizers match PyTorch formulas', () => {
  it('SGD momentum 0.9, weight_decay 0.1, lr 0.5 (dampening 0)', () => {
    expectClose(runSteps((p) => new SGD([p], 0.9), 0.5, 0.1), [
      [0.7, -2.025],
      [0.445, -2.09625],
      [0.09325, -1.8555625],
    ]);
  });

  it('SGD nesterov', () => {
    expectClose(runSteps((p) => new SGD([p], 0.9, 0, true), 0.5, 0.1), [
      [0.43, -2.0475],
      [0.24115, -2.1582375],
      [-0.16737425, -1.6300061875],
    ]);
  });

  it('AdamW lr 0.1, weight_decay 0.05, betas (0.9, 0.999), eps 1e-8', () => {
    expectClose(runSteps((p) => new AdamW([p]), 0.1, 0.05), [
      [0.895000002, -2.089999996],
      [0.8394223956893239, -2.17961130385423],
      [0.7751092908538642, -2.17700099539771],
    ]);
  });

  it('clip_grad_norm_: scale by max_norm / (total + 1e-6) only when above', () => {
    const grads = { a: tf.tensor1d([3, 4]), b: tf.tensor1d([12]) };
    const { grads: c, totalNorm } = clipGradNorm(grads, 1);
    expect(totalNorm.dataSync()[0]).toBeCloseTo(13, 5);
    const coef = 1 / (13 + 1e-6);
    expect(Array.from(c.a.dataSync())).toEqual([Math.fround(3 * coef), Math.fround(4 * coef)].map((v) => expect.closeTo(v, 7)));
    const { grads: same } = clipGradNorm(grads, 100);
    expect(Array.from(same.b.dataSync())).toEqual([12]);
    tf.dispose([grads.a, grads.b, c.a, c.b, same.a, same.b, totalNorm]);
  });
});

describe('paramwise options (mmcv DefaultOptimizerConstructor)', () => {
  it('norm and bias decay multipliers, custom keys by longest match', () => {
    const net = new ToyNet(4, 3);
    const entries = buildParamEntries(net, 0.1, 0.05, { norm_decay_mult: 0, bias_decay_mult: 0, custom_keys: { fc: { lr_mult: 0.1 }, 'fc.weight': { decay_mult: 2 } } });
    const by = Object.fromEntries(entries.map((e) => [e.name, e]));
    expect(Object.keys(by)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias', 'conv2.weight', 'bn2.weight', 'bn2.bias', 'fc.weight', 'fc.bias']);
    expect(by['conv1.weight'].weightDecay).toBe(0.05);
    expect(by['bn1.weight'].weightDecay).toBe(0);
    expect(by['bn2.bias'].weightDecay).toBe(0);
    // 'fc.weight' (longer) wins over 'fc': lr_mult 1, decay_mult 2.
    expect(by['fc.weight']).toMatchObject({ baseLr: 0.1, weightDecay: 0.1 });
    // 'fc' matches fc.bias: custom keys take precedence over bias_decay_mult.
    expect(by['fc.bias'].baseLr).toBeCloseTo(0.01, 12);
    expect(by['fc.bias'].weightDecay).toBe(0.05);
    net.dispose();
  });
});

describe('paramwise_cfg precedence (mmcv 1.x add_params)', () => {
  it('a depth-wise conv bias gets bias_lr_mult but dwconv_decay_mult; norm biases neither bias rule', () => {
    class Net extends Module {
      dw = this.child('dw', new Conv2d(4, 4, 3, { groups: 4 }));
      pw = this.child('pw', new Conv2d(4, 8, 1));
      one = this.child('one', new Conv2d(1, 2, 3));
      bn = this.child('bn', new BatchNorm2d(8));
    }
    const net = new Net();
    const p = { bias_lr_mult: 2, bias_decay_mult: 0.5, dwconv_decay_mult: 0.1, norm_decay_mult: 0 };
    const by = Object.fromEntries(buildParamEntries(net, 1, 1, p).map((e) => [e.name, [e.baseLr, e.weightDecay]]));
    expect(by['dw.weight']).toEqual([1, 0.1]);
    expect(by['dw.bias']).toEqual([2, 0.1]); // lr: bias rule; decay: dwconv before bias
    expect(by['pw.weight']).toEqual([1, 1]);
    expect(by['pw.bias']).toEqual([2, 0.5]);
    expect(by['one.weight']).toEqual([1, 0.1]); // in_channels == groups == 1 counts as depth-wise in mmcv
    expect(by['bn.weight']).toEqual([1, 0]);
    expect(by['bn.bias']).toEqual([1, 0]);
    net.dispose();
  });
});
