// The public inference API (apis/inference.ts, exported by index.ts): weights from a path or bytes
// with the config and class names from their metadata, images as a path, bytes or RGB pixels (all
// give the same detections), and one-line errors for a wrong model kind or missing weights.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, initDetector, inferenceDetector, initSegmentor, loadImage, selectBackend } from '../index';
import { CHECKPOINT_FORMAT, readCheckpoint } from '../checkpoint';
import { writeSafetensors } from '../checkpoint/formats/safetensors';
import { tinyDemoConfig, writeTinyCheckpoint } from './helpers/web_fixtures';

const dir = mkdtempSync(join(tmpdir(), 'tvd-apis-'));
const ckpt = join(dir, 'det.safetensors');
const IMAGE = resolve('web/assets/demo.png');

describe('inference API', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
    await writeTinyCheckpoint('det', ckpt);
  });

  it('gives the same detections for a path, bytes and RGB pixels; config and classes come from the weights', async () => {
    const det = await initDetector(null, readFileSync(ckpt).buffer.slice(0) as ArrayBuffer);
    expect(det.classes).toEqual(['rectangle', 'ellipse', 'triangle', 'diamond']);
    expect(det.weightBytes).toBe(readFileSync(ckpt).byteLength);
    const a = await inferenceDetector(det, IMAGE);
    const b = await inferenceDetector(det, new Uint8Array(readFileSync(IMAGE)));
    const px = await loadImage(IMAGE);
    expect([px.width, px.height]).toEqual([107, 114]);
    const c = await inferenceDetector(det, px);
    expect(a.scores.length).toBeGreaterThan(0);
    for (const r of [b, c]) {
      expect(Array.from(r.scores)).toEqual(Array.from(a.scores));
      expect(Array.from(r.bboxes)).toEqual(Array.from(a.bboxes));
    }
    expect(a.masks![0].length).toBe(107 * 114);
    det.model.module.dispose();
  });

  it('names the problem: detector weights given to initSegmentor, no weights, bad pixel buffers', async () => {
    await expect(initSegmentor(null, ckpt)).rejects.toThrow(/not a segmentor \(use initDetector\)/);
    await expect(initDetector(await tinyDemoConfig('det'), null)).rejects.toThrow(ConfigError);
    await expect(initDetector(await tinyDemoConfig('det'), null)).rejects.toThrow(/no weights given/);
    const det = await initDetector(null, ckpt);
    await expect(inferenceDetector(det, { data: new Uint8Array(10), width: 4, height: 4 })).rejects.toThrow(/expected width\*height\*3 = 48/);
    det.model.module.dispose();
  });

  it('reads the class names the runner writes (meta.CLASSES) and tools/export_weights --fp16 keeps them', async () => {
    // A checkpoint as tools/train and the demos write it: mmdet's meta.CLASSES, no `classes`.
    const ck = readCheckpoint(ckpt);
    const { classes, ...rest } = ck.meta!;
    expect(classes).toEqual(['rectangle', 'ellipse', 'triangle', 'diamond']);
    const trained = join(dir, 'runner_style.safetensors');
    const tensors = [...ck.stateDict].map(([k, t]) => [`state_dict.${k}`, t] as [string, typeof t]);
    writeFileSync(trained, writeSafetensors(tensors, { format: CHECKPOINT_FORMAT, meta: JSON.stringify({ ...rest, CLASSES: ['a', 'b', 'c', 'd'] }) }));
    const det = await initDetector(null, trained);
    expect(det.classes).toEqual(['a', 'b', 'c', 'd']);
    det.model.module.dispose();
    const exported = join(dir, 'exported.safetensors');
    execFileSync('tools/export_weights', ['--checkpoint', trained, '--out', exported, '--fp16'], { encoding: 'utf8' });
    const again = await initDetector(null, exported);
    expect(again.classes).toEqual(['a', 'b', 'c', 'd']);
    again.model.module.dispose();
  }, 60_000);
});
