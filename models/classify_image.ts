// tools/infer for ImageClassifier configs: the test split's eval transform on each image file, the
// softmax scores, and the top-5 classes printed with their names (ImageNet names for 1000 classes)
// and written to <out-dir>/<name>.json as {image, top5: [{label, name, score}]}.
import { mkdirSync, writeFileSync } from '#platform/fs';
import { basename, extname, join } from '#platform/path';
import * as tf from '@tensorflow/tfjs';
import { initWeights, loadStateDict, readCheckpoint } from '../checkpoint';
import { MODELS } from '../core/registry';
import { IMAGENET_CLASSES } from '../datasets/classification/imagenet_classes';
import { loadRgbLikePil } from '../datasets/classification/imagenet';
import { IMAGENET_MEAN, IMAGENET_STD, evalTransform } from '../datasets/classification/transforms';
import { IMAGE_INFERENCE } from './image_inference';
import type { ImageClassifier } from './image_classifier';

/** Indices of the k highest scores, highest first, ties in ascending index (the Accuracy order). */
export function topK(scores: Float32Array, k: number): number[] {
  return Array.from(scores.keys())
    .sort((a, b) => scores[b] - scores[a] || a - b)
    .slice(0, k);
}

IMAGE_INFERENCE.set('ImageClassifier', async ({ cfg, checkpoint, files, outDir, classes }) => {
  const model = MODELS.build(cfg.model, undefined, 'model') as unknown as ImageClassifier;
  if (checkpoint) loadStateDict(model.module, readCheckpoint(checkpoint).stateDict, { strict: true, source: checkpoint });
  else initWeights(model.module);
  model.module.eval();
  const t = (cfg.data.test ?? cfg.data.val ?? {}) as { img_size?: number; crop_pct?: number; mean?: number[]; std?: number[]; classes?: string[] };
  const opts = { img_size: t.img_size ?? 224, crop_pct: t.crop_pct ?? 0.875, mean: t.mean ?? [...IMAGENET_MEAN], std: t.std ?? [...IMAGENET_STD] };
  mkdirSync(outDir, { recursive: true });
  for (const file of files) {
    const pixels = evalTransform(await loadRgbLikePil(file), opts);
    const t0 = performance.now();
    const input = tf.tensor4d(pixels, [1, opts.img_size, opts.img_size, 3]);
    const [r] = model.predict({ inputs: input, labels: new Int32Array(1), indices: [0] });
    input.dispose();
    const ms = performance.now() - t0;
    const names = classes ?? t.classes ?? (r.scores.length === IMAGENET_CLASSES.length ? IMAGENET_CLASSES : undefined);
    const top5 = topK(r.scores, 5).map((label) => ({ label, name: names?.[label] ?? String(label), score: r.scores[label] }));
    console.log(`${file} (${ms.toFixed(0)} ms):`);
    for (const p of top5) console.log(`  ${p.score.toFixed(4)}  ${p.label}  ${p.name}`);
    writeFileSync(join(outDir, `${basename(file, extname(file))}.json`), `${JSON.stringify({ image: file, top5 })}\n`);
  }
  model.dispose();
});
