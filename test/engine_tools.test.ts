// tools/train, tools/eval and tools/print_config as a user runs them (separate processes).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tfjsNodeInstalled } from './helpers/tfjs_node';

const CFG = 'test/fixtures/configs/toy_cls.ts';

function tool(name: string, args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(`tools/${name}`, args, { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Asserts a user error: non-zero exit and exactly one non-empty stderr line, no stack trace. */
function expectOneLineError(r: { code: number; err: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  const lines = r.err.split('\n').filter((l) => l.trim() !== '');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /);
}

describe('tools', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'tools-'));

  it('train, auto-resume and eval the toy config', () => {
    const t = tool('train', ['--config', CFG, '--work-dir', workDir, '--backend', 'cpu', '--cfg-options', 'runner.max_iters=10']);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/^backend cpu: /m);
    expect(t.out).toMatch(/Iter \[10\/10\]\tlr: /);
    expect(t.out).toMatch(/done: iter 10/);
    expect(existsSync(join(workDir, 'latest.safetensors'))).toBe(true);

    const again = tool('train', ['--config', CFG, '--work-dir', workDir, '--backend', 'cpu', '--auto-resume', '--cfg-options', 'runner.max_iters=12']);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(/resumed from .*iter_10\.safetensors: epoch 1, iter 10/);
    expect(again.out).toMatch(/done: iter 12/);

    const out = join(workDir, 'eval.json');
    const e = tool('eval', ['--config', CFG, '--checkpoint', join(workDir, 'latest.safetensors'), '--backend', 'cpu', '--out', out]);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/evaluated 32 samples of data\.test/);
    expect(e.out).toMatch(/^accuracy: \d\.\d{4}$/m);
    const saved = JSON.parse(readFileSync(out, 'utf8'));
    expect(saved.results).toHaveLength(32);
    expect(saved.metrics.accuracy).toBeGreaterThanOrEqual(0);
  });

  it('bad input ends with one clear line and a non-zero exit', () => {
    expectOneLineError(tool('train', ['--config', 'configs/nope.ts']), /^error: config file not found: configs\/nope\.ts$/);
    expectOneLineError(tool('train', ['--config', CFG, '--cfg-options', 'model.widht=3']), /^error: --cfg-options: model\.widht: unknown key 'widht'; nearest valid names: width/);
    expectOneLineError(tool('print_config', ['--config', 'test/fixtures/configs/merge/bad_key.ts']), /^error: .*bad_key\.ts: model\.widht: unknown key/);
    expectOneLineError(
      tool('eval', ['--config', CFG, '--checkpoint', join(workDir, 'iter_10.safetensors'), '--backend', 'cpu', '--cfg-options', 'model.width=4']),
      /^error: .*iter_10\.safetensors does not match the model: shape mismatches: conv1\.weight \(checkpoint \[8,3,3,3\], model \[4,3,3,3\]\)/,
    );
    const junk = join(workDir, 'junk.safetensors');
    writeFileSync(junk, 'not a checkpoint');
    expectOneLineError(tool('eval', ['--config', CFG, '--checkpoint', junk, '--backend', 'cpu']), /^error: .*junk\.safetensors: not a safetensors file/);
    expectOneLineError(tool('eval', ['--config', CFG, '--checkpoint', join(workDir, 'missing.safetensors')]), /^error: cannot read checkpoint .*missing\.safetensors: ENOENT/);
    // Only where the optional binding is absent (a user may have installed it as the README says).
    if (!tfjsNodeInstalled()) expectOneLineError(tool('train', ['--config', CFG, '--backend', 'tensorflow']), /^error: backend 'tensorflow' is not available: .*npm install @tensorflow\/tfjs-node-gpu/);
    expectOneLineError(tool('train', ['--config', CFG, '--bogus']), /^error: Unknown argument: bogus/);
  });

  it('print_config prints the resolved config; --help works', () => {
    const p = tool('print_config', ['--config', 'test/fixtures/configs/toy_adamw.ts', '--cfg-options', 'optimizer.lr=0.5']);
    expect(p.code, p.err).toBe(0);
    const cfg = JSON.parse(p.out.replace(/^export default /, '').replace(/;\s*$/, ''));
    expect(cfg.optimizer).toEqual({ type: 'AdamW', lr: 0.5, weight_decay: 0.05, paramwise_cfg: { norm_decay_mult: 0 } });
    expect(cfg.lr_config.policy).toBe('poly');
    for (const name of ['train', 'eval', 'print_config']) {
      const h = tool(name, ['--help']);
      expect(h.code).toBe(0);
      expect(h.out).toMatch(/--config/);
    }
  });
});
