// The shipped configs (demo and recipe) scaled down for engine tests on the cpu backend: a one-block
// TinyViM with 16 channels per stage, 64 px images, batch 2, no workers, no evaluation, and the data
// roots pointed at a generated shapes dataset. Heads keep the config's own sizes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config';
import type { Config } from '../../core/config_root';
import { writeShapesAde, writeShapesCoco } from '../../datasets/synthetic/write';

type Obj = Record<string, unknown>;

let cocoRoot: string | null = null;
let adeRoot: string | null = null;

/** A 4-image train / 2-image val shapes dataset in COCO layout (made once per test process). */
export async function smallCoco(): Promise<string> {
  if (!cocoRoot) {
    cocoRoot = mkdtempSync(join(tmpdir(), 'shapes-coco-'));
    await writeShapesCoco(cocoRoot, { train: 4, val: 2, size: 64, seed: 0 });
  }
  return cocoRoot;
}

/** The same in ADE20K layout. */
export async function smallAde(): Promise<string> {
  if (!adeRoot) {
    adeRoot = mkdtempSync(join(tmpdir(), 'shapes-ade-'));
    await writeShapesAde(adeRoot, { train: 4, val: 2, size: 64, seed: 0 });
  }
  return adeRoot;
}

function shrinkPipeline(pipeline: Obj[], side: number): void {
  for (const t of pipeline) {
    if ('img_scale' in t) t.img_scale = [side, side];
    if ('crop_size' in t) t.crop_size = [side, side];
    if (Array.isArray(t.size)) t.size = [side, side];
  }
}

/**
 * Loads `path` and scales it down (see the file comment); `root` is the dataset root for every split.
 * The schedule is left to the caller.
 */
export async function smallConfig(path: string, root: string, side = 64): Promise<Config> {
  const { cfg } = await loadConfig(path);
  const c = structuredClone(cfg) as unknown as Obj & { model: Obj; data: Obj };
  c.model.backbone = { type: 'TinyViM', layers: [1, 1, 1, 1], embed_dims: [16, 16, 16, 16], fork_feat: true };
  (c.model.neck as Obj).in_channels = [16, 16, 16, 16];
  delete c.evaluation;
  c.data.samples_per_gpu = 2;
  c.data.workers_per_gpu = 0;
  c.log_config = { interval: 1 };
  for (const split of ['train', 'val', 'test']) {
    let d = c.data[split] as Obj | undefined;
    if (!d) continue;
    if (d.type === 'RepeatDataset') {
      d.times = 1;
      d = d.dataset as Obj;
    }
    d.data_root = root;
    if (d.type === 'CocoDataset') {
      d.ann_file = `annotations/instances_${split === 'train' ? 'train' : 'val'}.json`;
      d.img_prefix = split === 'train' ? 'train/' : 'val/';
    } else {
      d.img_dir = `images/${split === 'train' ? 'training' : 'validation'}`;
      d.ann_dir = `annotations/${split === 'train' ? 'training' : 'validation'}`;
    }
    shrinkPipeline(d.pipeline as Obj[], side);
  }
  return c as unknown as Config;
}
