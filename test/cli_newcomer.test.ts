// The CLI faults of the newcomer issue (15: 1, 2, 4, 6, 7, 8, 11), run as a user types the commands.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cocoResultPaths } from '../evaluation/coco_results';

const TOY = 'test/fixtures/configs/toy_cls.ts';
const DET = 'test/fixtures/configs/tiny_mask_rcnn_shapes.ts';

function tool(name: string, args: string[], env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = spawnSync(`tools/${name}`, args, { encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function expectOneLineError(r: { code: number; err: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  const lines = r.err.split('\n').filter((l) => l.trim() !== '');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe('tools as a newcomer types them', () => {
  const work = mkdtempSync(join(tmpdir(), 'newcomer-'));

  it('--resume-from and --auto-resume work from the command line; both together are refused (fault 1)', () => {
    const dir = join(work, 'resume');
    // mmdetection's positional config form.
    const t = tool('train', [TOY, '--work-dir', dir, '--backend', 'auto', '--cfg-options', 'runner.max_iters=2', 'checkpoint_config.interval=1', 'evaluation.interval=100']);
    expect(t.code, t.err).toBe(0);
    // The stderr of a good run is empty: Dawn's probe noise never reaches the user (fault 6), and a
    // skipped webgpu is explained on the backend line.
    expect(t.err.trim()).toBe('');
    // Either webgpu was chosen (Dawn found an adapter, e.g. SwiftShader in CI) or its skip is explained.
    expect(t.out).toMatch(/^backend (webgpu: Dawn|\w+: .*skipped webgpu: [^;]+)/m);
    const r = tool('train', ['--config', TOY, '--work-dir', dir, '--backend', 'cpu', '--resume-from', join(dir, 'iter_1.safetensors'), '--cfg-options', 'runner.max_iters=3', 'evaluation.interval=100']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/resumed from .*iter_1\.safetensors: epoch 0, iter 1/);
    expect(r.out).toMatch(/done: iter 3/);
    const a = tool('train', ['--config', TOY, '--work-dir', dir, '--backend', 'cpu', '--auto-resume', '--cfg-options', 'runner.max_iters=4', 'evaluation.interval=100']);
    expect(a.code, a.err).toBe(0);
    expect(a.out).toMatch(/resumed from .*iter_3\.safetensors/);
    expectOneLineError(tool('train', [TOY, '--resume-from', join(dir, 'iter_1.safetensors'), '--auto-resume']), /^error: Arguments resume-from and auto-resume are mutually exclusive/);
  }, 600_000);

  it('unknown flags get the nearest flag or the equivalent (fault 8)', () => {
    expectOneLineError(tool('train', [TOY, '--workdir', 'x']), /^error: Unknown arguments?: workdir.*--workdir: did you mean --work-dir\?/);
    expectOneLineError(tool('train', [TOY, '--resume', 'x.safetensors']), /--resume: use --resume-from <checkpoint> \(or --auto-resume/);
    expectOneLineError(tool('eval', [TOY, 'a.safetensors', '--show_dir', 'v']), /--show_dir: did you mean --show-dir\?/);
  }, 300_000);

  it('a wrong metric is refused before training or inference; a refused run leaves no work dir (faults 2, 11)', () => {
    const dir = join(work, 'never');
    expectOneLineError(tool('train', [TOY, '--work-dir', dir, '--backend', 'cpu', '--cfg-options', 'evaluation.metric=mAP']), /^error: evaluation\.metric 'mAP' is not supported for ToyDataset/);
    expect(existsSync(dir)).toBe(false);
    const ck = join(work, 'resume', 'iter_1.safetensors');
    // mmdetection's `tools/test.py config checkpoint --eval ...` form.
    const e = tool('eval', [TOY, ck, '--backend', 'cpu', '--eval', 'mAP']);
    expectOneLineError(e, /^error: evaluation\.metric 'mAP' is not supported for ToyDataset/);
    expect(e.out).not.toMatch(/evaluated/);
    const ok = tool('eval', [TOY, ck, '--backend', 'cpu', '--eval', 'accuracy']);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/^accuracy: /m);
  }, 300_000);

  it('tools/infer: folders and globs, no random weights unless asked, range checks, image errors name the file (faults 4, 7, 11)', () => {
    const imgs = join(work, 'imgs');
    const data = join(work, 'coco');
    const m = spawnSync('tools/make_dataset', ['shapes-coco', '--out', data, '--train', '2', '--val', '2', '--size', '64', '--seed', '0'], { encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    const val = join(data, 'val');
    const out = join(work, 'infer_out');
    expectOneLineError(tool('infer', ['--config', DET, val, '--out-dir', out, '--backend', 'cpu']), /no checkpoint given, so the weights would be random.*--allow-random-weights/);
    const dir = tool('infer', ['--config', DET, val, '--out-dir', out, '--backend', 'cpu', '--allow-random-weights']);
    expect(dir.code, dir.err).toBe(0);
    expect(dir.out).toMatch(/^weights: random/m);
    const inputs = readdirSync(val);
    expect(readdirSync(out).filter((f) => f.endsWith('.json')).length).toBe(inputs.length);
    const glob = tool('infer', ['--config', DET, join(val, '*1.jpg'), '--out-dir', join(work, 'glob_out'), '--backend', 'cpu', '--allow-random-weights']);
    expect(glob.code, glob.err).toBe(0);
    expect(readdirSync(join(work, 'glob_out')).filter((f) => f.endsWith('.json'))).toEqual(inputs.filter((f) => /1\.jpg$/.test(f)).map((f) => f.replace('.jpg', '.json')));
    expectOneLineError(tool('infer', ['--config', DET, val, '--out-dir', out, '--score-thr', '1.5', '--allow-random-weights']), /^error: --score-thr: expected a number in \[0, 1\], got 1\.5$/);
    expectOneLineError(tool('infer', ['--config', DET, val, '--out-dir', out, '--scale', '1.5', '--allow-random-weights']), /^error: --scale: expected an integer >= 1, got 1\.5$/);
    expectOneLineError(tool('infer', ['--config', DET, join(work, 'nothing_here'), '--out-dir', out, '--allow-random-weights']), /nothing_here: no such file or folder$/);
    mkdirSync(join(work, 'empty'), { recursive: true });
    expectOneLineError(tool('infer', ['--config', DET, join(work, 'empty'), '--out-dir', out, '--allow-random-weights']), /empty: the folder holds no image files/);
    const bad = join(work, 'zero.png');
    writeFileSync(bad, 'not an image');
    expectOneLineError(tool('infer', ['--config', DET, bad, '--out-dir', out, '--backend', 'cpu', '--allow-random-weights']), /zero\.png: /);
  }, 600_000);

  it('print_config prints short lists inline (fault 11)', () => {
    const p = tool('print_config', ['--config', 'configs/mask_rcnn/mask_rcnn_tinyvim_s_fpn_1x_coco.ts']);
    expect(p.code, p.err).toBe(0);
    expect(p.out).toMatch(/"layers": \[3, 3, 9, 6\]/);
    expect(p.out.split('\n').length).toBeLessThan(250);
    expect(() => JSON.parse(p.out.replace(/^export default /, '').replace(/;\s*$/, ''))).not.toThrow();
  }, 120_000);

  it('--out takes the stem of results.pkl as mmdetection users write it (fault 11)', () => {
    expect(cocoResultPaths('work/results.pkl')).toEqual({ bbox: 'work/results.bbox.json', segm: 'work/results.segm.json' });
    expect(cocoResultPaths('work/results.json').bbox).toBe('work/results.bbox.json');
    expect(cocoResultPaths('work/results').bbox).toBe('work/results.bbox.json');
  });
});
