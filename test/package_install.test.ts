// `npm run build` + `npm pack`, installed into an empty project: one import gives a working
// inferenceDetector (config taken from the checkpoint's metadata), with the same detections as the
// API run from the sources. Dependencies come from npm's cache when present (--prefer-offline).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../ops/backend';
import { initDetector, inferenceDetector } from '../index';
import { writeTinyCheckpoint } from './helpers/web_fixtures';

const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('npm pack + install into an empty project', () => {
  it('runs inferenceDetector from one import of the installed package', { timeout: 900_000 }, async () => {
    const repo = resolve('.');
    const work = mkdtempSync(join(tmpdir(), 'tvd-pack-'));
    run('npm', ['run', 'build'], repo);
    run('npm', ['pack', '--pack-destination', work], repo);
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'tvd-consumer', version: '1.0.0', type: 'module', private: true }));
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, tgz)], app);
    await writeTinyCheckpoint('det', join(app, 'det.safetensors'));
    copyFileSync(resolve('web/assets/demo.png'), join(app, 'demo.png'));
    writeFileSync(
      join(app, 'main.mjs'),
      [
        "import { initDetector, inferenceDetector, selectBackend, TinyViM_S } from 'tinyvim-dense';",
        "await selectBackend('wasm');",
        "if (typeof TinyViM_S !== 'function') throw new Error('TinyViM_S not exported');",
        "const det = await initDetector(null, 'det.safetensors');",
        "const r = await inferenceDetector(det, 'demo.png');",
        'console.log(JSON.stringify({ scores: Array.from(r.scores), bboxes: Array.from(r.bboxes), labels: Array.from(r.labels), classes: det.classes }));',
      ].join('\n'),
    );
    const lines = run('node', ['main.mjs'], app).trim().split('\n');
    const got = JSON.parse(lines[lines.length - 1]) as { scores: number[]; bboxes: number[]; labels: number[]; classes: string[] };

    await selectBackend('wasm');
    const det = await initDetector(null, join(app, 'det.safetensors'));
    const want = await inferenceDetector(det, resolve('web/assets/demo.png'));
    det.model.module.dispose();
    expect(got.classes).toEqual(['rectangle', 'ellipse', 'triangle', 'diamond']);
    expect(got.scores.length).toBe(want.scores.length);
    expect(got.labels).toEqual(Array.from(want.labels));
    for (let i = 0; i < got.scores.length; i++) expect(got.scores[i]).toBeCloseTo(want.scores[i], 5);
    for (let i = 0; i < got.bboxes.length; i++) expect(got.bboxes[i]).toBeCloseTo(want.bboxes[i], 3);
  });
});
