// ImageNet classification: folder and list-file layouts, the DeiT eval transform, the Accuracy
// evaluator against hand-computed values, tools/eval on a checkpoint, and a 2-iteration fine-tune.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config';
import { saveStateDictFile } from '../checkpoint';
import { buildDataset, buildModel, createRunner } from '../engine/build';
import { buildEvaluator, evalLoader, inferenceOnDataset } from '../engine/evaluate';
import { SilentLogSink } from '../engine/dist/launch';
import { type ImageNetDataset, readListFile, scanImageFolder } from '../datasets/classification/imagenet';
import { IMAGENET_MEAN, IMAGENET_STD, centerCrop, evalTransform, randomErasing, roundHalfEven, shorterSideSize } from '../datasets/classification/transforms';
import { resizeBicubicPil } from '../datasets/classification/pil_resize';
import { applyMix, drawMix, sampleBeta, softTargetCrossEntropy } from '../models/mixup';
import { Rng } from '../core/rng';
import { AccuracyEvaluator, rankOf } from '../evaluation/evaluators/accuracy';
import { type ImageClassifier, labelSmoothingCrossEntropy } from '../models/image_classifier';
import { IMAGENET_CLASSES } from '../datasets/classification/imagenet_classes';
import { readFileSync } from 'node:fs';
import { MODELS } from '../core/registry';
import { loadStateDict } from '../checkpoint/state_dict';
import { fixture, tensorOf, toNHWC } from './helpers/tinyvim';
import '../models/index';
import '../datasets/register';

const CONFIG = 'test/fixtures/configs/cls_tiny_folder.ts';

/** A w x h RGB image whose pixel (x, y) is (x * 5 + seed, y * 7 + seed, (x + y) * 3) mod 256. */
function pattern(w: number, h: number, seed: number): Uint8Array {
  const d = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d.set([(x * 5 + seed) % 256, (y * 7 + seed) % 256, ((x + y) * 3) % 256], (y * w + x) * 3);
  return d;
}

function writePng(file: string, w: number, h: number, seed: number): void {
  const png = new PNG({ width: w, height: h });
  const rgb = pattern(w, h, seed);
  for (let i = 0; i < w * h; i++) png.data.set([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2], 255], i * 4);
  writeFileSync(file, PNG.sync.write(png));
}

let root = '';
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'imagenet-'));
  // 3 classes (folder names deliberately unsorted on disk), 2 train / 2 val images each; one JPEG, one
  // upper-case extension, one non-image file and one image in a sub-folder.
  const classes = ['n02', 'n01', 'n10'];
  for (const split of ['train', 'val']) {
    classes.forEach((c, ci) => {
      mkdirSync(join(root, split, c, 'sub'), { recursive: true });
      writePng(join(root, split, c, 'b.PNG'), 40 + ci * 4, 36, ci * 40 + (split === 'val' ? 3 : 0));
      writePng(join(root, split, c, 'sub', 'a.png'), 36, 44, ci * 40 + 17);
      writeFileSync(join(root, split, c, 'notes.txt'), 'not an image');
    });
  }
  await sharp(Buffer.from(pattern(48, 40, 9)), { raw: { width: 48, height: 40, channels: 3 } }).jpeg({ quality: 95 }).toFile(join(root, 'val', 'n01', 'c.JPEG'));
  writeFileSync(join(root, 'val.txt'), 'n02/b.PNG 1\nn01/c.JPEG 0\n\nn10/sub/a.png 2\n');
});

describe('ImageNet layouts', () => {
  it('folder layout: classes are the sorted folder names; files in sorted walk order; IMG_EXTENSIONS only', () => {
    const s = scanImageFolder(join(root, 'val'));
    expect(s.classes).toEqual(['n01', 'n02', 'n10']);
    expect(s.paths.map((p) => p.slice(join(root, 'val').length + 1))).toEqual([
      'n01/b.PNG', 'n01/c.JPEG', 'n01/sub/a.png', 'n02/b.PNG', 'n02/sub/a.png', 'n10/b.PNG', 'n10/sub/a.png',
    ]);
    expect(Array.from(s.labels)).toEqual([0, 0, 0, 1, 1, 2, 2]);
  });

  it('list file: `path label` lines relative to data_prefix; bad lines name file and line', () => {
    const s = readListFile(join(root, 'val.txt'), join(root, 'val'), ['n01', 'n02', 'n10']);
    expect(s.paths).toEqual([join(root, 'val', 'n02/b.PNG'), join(root, 'val', 'n01/c.JPEG'), join(root, 'val', 'n10/sub/a.png')]);
    expect(Array.from(s.labels)).toEqual([1, 0, 2]);
    writeFileSync(join(root, 'bad.txt'), 'n01/c.JPEG 0\nn02/b.PNG\n');
    expect(() => readListFile(join(root, 'bad.txt'), root)).toThrow(/bad\.txt: line 2: expected '<path> <label>'/);
    expect(() => readListFile(join(root, 'val.txt'), root, ['a', 'b'])).toThrow(/line 4: label 2 is outside 0\.\.1/);
  });
});

describe('eval transform (DeiT: Resize(int(size / 0.875), bicubic) -> CenterCrop -> Normalize)', () => {
  it('sizes follow torchvision: shorter side, int() of the longer; crop offsets use Python rounding', () => {
    expect(shorterSideSize(500, 375, 256)).toEqual({ width: 341, height: 256 });
    expect(shorterSideSize(375, 500, 256)).toEqual({ width: 256, height: 341 });
    expect(roundHalfEven(0.5)).toBe(0);
    expect(roundHalfEven(1.5)).toBe(2);
    expect(roundHalfEven(2.5)).toBe(2);
  });

  it('an image whose shorter side is already int(32 / 0.875) = 36 is only cropped and normalised', () => {
    const img = { data: pattern(41, 36, 0), width: 41, height: 36 };
    const out = evalTransform(img, { img_size: 32, crop_pct: 0.875, mean: IMAGENET_MEAN, std: IMAGENET_STD });
    expect(out.length).toBe(32 * 32 * 3);
    // Offsets: top round(4 / 2) = 2, left round(9 / 2) = 4 (half to even).
    for (const [y, x, c] of [[0, 0, 0], [5, 7, 1], [31, 31, 2], [16, 3, 0]]) {
      const v = img.data[((y + 2) * 41 + (x + 4)) * 3 + c];
      expect(out[(y * 32 + x) * 3 + c]).toBeCloseTo((v / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c], 5);
    }
  });

  it('bicubic resize keeps a constant image constant and is the identity at the same size', () => {
    const flat = { data: new Uint8Array(50 * 30 * 3).fill(200), width: 50, height: 30 };
    const r = resizeBicubicPil(flat, 60, 36);
    expect([r.width, r.height]).toEqual([60, 36]);
    expect(r.data.every((v) => v === 200)).toBe(true);
    const out = evalTransform(flat, { img_size: 32, crop_pct: 0.875, mean: IMAGENET_MEAN, std: IMAGENET_STD });
    expect(out[0]).toBeCloseTo((200 / 255 - 0.485) / 0.229, 5);
    expect(centerCrop(r, 36).width).toBe(36);
  });
});

describe('RandomErasing (timm, mode pixel)', () => {
  it('erases one box of 2%..33% of the image with N(0, 1) values, or nothing with prob 0', () => {
    const px = new Float32Array(32 * 32 * 3).fill(7);
    randomErasing(px, 32, 32, 0, new Rng(0));
    expect(px.every((v) => v === 7)).toBe(true);
    randomErasing(px, 32, 32, 1, new Rng(5));
    const erased = px.filter((v) => v !== 7).length / 3;
    expect(erased).toBeGreaterThanOrEqual(Math.floor(0.02 * 1024) - 8);
    expect(erased).toBeLessThanOrEqual(Math.ceil(1024 / 3) + 40);
    const vals = px.filter((v) => v !== 7);
    expect(Math.abs(vals.reduce((a, v) => a + v, 0) / vals.length)).toBeLessThan(0.5);
  });
});

describe('Accuracy (mmpretrain semantics)', () => {
  it('top-1/top-2 on hand-made scores, ties in ascending class index', () => {
    const ev = new AccuracyEvaluator({ labels: Int32Array.from([0, 1, 2, 2]) }, { topk: [1, 2, 5] });
    ev.reset();
    ev.process({ indices: [0, 1] }, [{ scores: Float32Array.from([0.7, 0.2, 0.1]) }, { scores: Float32Array.from([0.5, 0.3, 0.2]) }]);
    // Sample 2: a tie between class 1 and 2: class 1 ranks first, so label 2 has rank 1 (top-2, not top-1).
    ev.process({ indices: [2, 3] }, [{ scores: Float32Array.from([0.2, 0.4, 0.4]) }, { scores: Float32Array.from([0.6, 0.3, 0.1]) }]);
    // ranks: 0, 1, 1, 2 -> top1 1/4, top2 3/4, top5 4/4
    expect(ev.evaluate().metrics).toEqual({ 'accuracy/top1': 25, 'accuracy/top2': 75, 'accuracy/top5': 100 });
    expect(rankOf(Float32Array.from([0.4, 0.4, 0.2]), 0)).toBe(0);
    // Distributed evaluation passes {metas: [{index}]} one sample at a time.
    ev.reset();
    ev.process({ metas: [{ index: 1 }] }, [{ scores: Float32Array.from([0.1, 0.8, 0.1]) }]);
    expect(ev.evaluate().metrics['accuracy/top1']).toBe(100);
    expect(() => ev.process({}, [{ scores: Float32Array.from([1, 0, 0]) }])).toThrow(/no dataset index/);
  });
});

describe('ImageClassifier on the folder', () => {
  it('tools/eval and the engine report the top-1 computed by hand from the logits', async () => {
    const { cfg } = await loadConfig(CONFIG, [`data.val.data_root=${root}`, `data.train.data_root=${root}`, `data.test.data_root=${root}`]);
    const model = buildModel(cfg) as unknown as ImageClassifier;
    const ckpt = join(root, 'tiny.safetensors');
    saveStateDictFile(model.module, ckpt);
    // By hand: transform each image, forward, argmax, compare with the folder label.
    const ds = buildDataset(cfg, 'test') as unknown as ImageNetDataset;
    model.module.eval();
    let correct = 0;
    for (let i = 0; i < ds.length; i++) {
      const { pixels, label } = await ds.sample(i, 0);
      const logits = tf.tidy(() => model.module.forwardLogits(tf.tensor4d(pixels, [1, 32, 32, 3])) as tf.Tensor2D);
      const v = Array.from(logits.dataSync());
      logits.dispose();
      if (v.indexOf(Math.max(...v)) === label) correct++;
    }
    const expected = (100 * correct) / ds.length;
    const report = await inferenceOnDataset(model, evalLoader(ds as never), buildEvaluator(cfg, ds as never, []) as never);
    expect(report.metrics['accuracy/top1']).toBeCloseTo(expected, 10);
    expect(report.metrics['accuracy/top5']).toBe(100);
    model.dispose();

    const out = execFileSync('npx', ['tsx', 'tools/eval.ts', '--config', CONFIG, '--checkpoint', ckpt, '--backend', 'cpu', '--cfg-options', `data.test.data_root=${root}`, `data.train.data_root=${root}`, `data.val.data_root=${root}`], { encoding: 'utf8' });
    expect(out).toContain(`accuracy/top1: ${expected.toFixed(4)}`);
    expect(out).toContain('accuracy/top5: 100.0000');
  }, 120_000);

  it('a 2-iteration fine-tune runs, saves a checkpoint and evaluates', async () => {
    const { cfg } = await loadConfig(CONFIG, [`data.val.data_root=${root}`, `data.train.data_root=${root}`, `data.test.data_root=${root}`]);
    const workDir = mkdtempSync(join(tmpdir(), 'cls-train-'));
    const runner = createRunner(cfg, { workDir, seed: 0, log: new SilentLogSink() });
    const result = await runner.run();
    expect(result.iter).toBe(2);
    expect(result.metrics['accuracy/top1']).toBeGreaterThanOrEqual(0);
    expect(result.metrics['accuracy/top5']).toBe(100);
  }, 120_000);
});

describe('tools/infer on a classifier', () => {
  it('prints the top classes of an image and writes them as JSON; ImageNet names cover 1000 classes', () => {
    expect(IMAGENET_CLASSES.length).toBe(1000);
    expect([IMAGENET_CLASSES[0], IMAGENET_CLASSES[281], IMAGENET_CLASSES[999]]).toEqual(['tench', 'tabby', 'toilet_tissue']);
    const outDir = join(root, 'infer');
    const img = join(root, 'val', 'n01', 'c.JPEG');
    const out = execFileSync('npx', ['tsx', 'tools/infer.ts', '--config', CONFIG, '--backend', 'cpu', '--out-dir', outDir, img], { encoding: 'utf8' });
    const json = JSON.parse(readFileSync(join(outDir, 'c.json'), 'utf8'));
    // 3 classes: the "top-5" lists all three, scores descending and summing to 1 (softmax).
    expect(json.top5.map((p: { label: number }) => p.label).sort()).toEqual([0, 1, 2]);
    const scores = json.top5.map((p: { score: number }) => p.score);
    expect(scores[0]).toBeGreaterThanOrEqual(scores[1]);
    expect(scores.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
    expect(out).toContain(`${img} (`);
  }, 120_000);
});

describe('Mixup / CutMix (timm Mixup, mode batch)', () => {
  it('Beta(1, 1) draws have mean 1/2; CutMix corrects lam to the pasted area; targets mix smoothed one-hots', () => {
    const rng = new Rng(3);
    let sum = 0;
    for (let i = 0; i < 4000; i++) sum += sampleBeta(rng, 1, 1);
    expect(sum / 4000).toBeCloseTo(0.5, 1);
    const d = drawMix(new Rng(1), { mixup_alpha: 0, cutmix_alpha: 1, prob: 1, switch_prob: 0.5 }, 8, 8);
    expect(d.box).not.toBeNull();
    const b = d.box!;
    expect(d.lam).toBeCloseTo(1 - ((b.y1 - b.y0) * (b.x1 - b.x0)) / 64, 12);
    const x = tf.tensor4d(Float32Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => (i < 192 ? 1 : 2)), [2, 8, 8, 3]);
    const out = applyMix(x, Int32Array.from([0, 2]), 3, 0.1, d);
    const px = out.x.arraySync();
    // Image 0 shows image 1's pixels (2) inside the box and its own (1) elsewhere.
    expect(px[0][b.y0][b.x0][0]).toBe(b.y1 > b.y0 && b.x1 > b.x0 ? 2 : 1);
    expect(px[0][b.y1 < 8 ? b.y1 : 0][b.x1 < 8 ? b.x1 : 0][0]).toBe(b.y1 < 8 || b.x1 < 8 ? 1 : px[0][0][0][0]);
    // Targets: lam * [0.9333, 0.0333, 0.0333] + (1 - lam) * [0.0333, 0.0333, 0.9333] for image 0.
    const t = out.targets.arraySync();
    const off = 0.1 / 3;
    expect(t[0][0]).toBeCloseTo(d.lam * (0.9 + off) + (1 - d.lam) * off, 6);
    expect(t[0][2]).toBeCloseTo(d.lam * off + (1 - d.lam) * (0.9 + off), 6);
    expect(t[1].reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6);
    // Mixup: x = lam * x + (1 - lam) * flip(x).
    const m = applyMix(x, Int32Array.from([0, 2]), 3, 0, { lam: 0.25, box: null });
    expect(m.x.arraySync()[0][3][3][1]).toBeCloseTo(0.25 * 1 + 0.75 * 2, 6);
    // Soft-target CE with one-hot targets equals plain CE: -log softmax.
    const ce = softTargetCrossEntropy(tf.tensor2d([[0, Math.log(3)]]), tf.tensor2d([[0, 1]])).dataSync()[0];
    expect(ce).toBeCloseTo(-Math.log(3 / 4), 6);
    // Label smoothing 0.1 (timm LabelSmoothingCrossEntropy): 0.9 * nll + 0.1 * mean(-log p).
    const ls = labelSmoothingCrossEntropy(tf.tensor2d([[0, Math.log(3)]]), Int32Array.from([1]), 0.1).dataSync()[0];
    expect(ls).toBeCloseTo(0.9 * -Math.log(3 / 4) + 0.1 * -(Math.log(1 / 4) + Math.log(3 / 4)) / 2, 6);
    tf.dispose([x, out.x, out.targets, m.x, m.targets]);
  });
});

describe('ImageClassifier with official weights', () => {
  it('the official tiny classifier state_dict loads strictly; predict = softmax of the official logits', () => {
    const w = fixture('tiny_cls.weights.safetensors');
    const meta = JSON.parse(w.metadata.config);
    const model = MODELS.build(
      { type: 'ImageClassifier', backbone: { type: 'TinyViM', layers: meta.layers, embed_dims: meta.embed_dims, downsamples: meta.downsamples, fork_feat: false, num_classes: meta.num_classes, distillation: meta.distillation } },
      undefined,
    ) as unknown as ImageClassifier;
    const report = loadStateDict(model.module, w.tensors, { strict: true });
    expect(report.unexpected).toEqual([]);
    model.module.eval();
    const io = fixture('tiny_cls.io.safetensors').tensors;
    const x = toNHWC(tensorOf(io, 'input')) as tf.Tensor4D;
    const want = tf.softmax(tensorOf(io, 'logits') as tf.Tensor2D).arraySync() as number[][];
    const got = model.predict({ inputs: x, labels: new Int32Array(x.shape[0]), indices: Array.from({ length: x.shape[0] }, (_, i) => i) });
    got.forEach((r, i) => r.scores.forEach((v, j) => expect(v).toBeCloseTo(want[i][j], 4)));
    model.dispose();
  }, 120_000);
});
