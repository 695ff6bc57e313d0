// Tiny random-weight checkpoints of the two demo models (same configs, backbone shrunk to one block
// per stage) for the browser and package tests: nothing is trained, files are a few hundred KB.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadConfig } from '../../core/config';
import type { Config } from '../../core/config_root';
import { serializeCheckpoint } from '../../checkpoint';
import { initDetector, initSegmentor } from '../../apis/inference';
import { SHAPE_CATEGORIES } from '../../datasets/synthetic/shapes';

const TINY_DIMS = [16, 16, 32, 32];
const SPREAD_STD = { det: 0.05, seg: 0.3 } as const;

/** The demo config of `task` with a one-block-per-stage TinyViM of widths 16/16/32/32. */
export async function tinyDemoConfig(task: 'det' | 'seg'): Promise<Config> {
  const file = task === 'det' ? 'configs/demo/mask_rcnn_tinyvim_s_fpn_shapes.ts' : 'configs/demo/fpn_tinyvim_s_shapes.ts';
  const { cfg } = await loadConfig(file);
  const m = cfg.model as Record<string, Record<string, unknown>>;
  m.backbone = { ...m.backbone, layers: [1, 1, 1, 1], embed_dims: TINY_DIMS };
  m.neck = { ...m.neck, in_channels: TINY_DIMS };
  return structuredClone(cfg);
}

/**
 * Builds the tiny model with seeded random weights and writes it as one of our checkpoints (config
 * and class names in the metadata). The classifier weights get a larger std instead of mmdet's 0.01 so
 * that scores are spread out (near-equal scores would make the detection order fragile).
 */
export async function writeTinyCheckpoint(task: 'det' | 'seg', path: string, opts: { f16?: boolean } = {}): Promise<{ cfg: Config; classes: string[] }> {
  const cfg = await tinyDemoConfig(task);
  const m = task === 'det' ? await initDetector(cfg, null, { allowRandomWeights: true }) : await initSegmentor(cfg, null, { allowRandomWeights: true });
  const classes = task === 'det' ? SHAPE_CATEGORIES.map((c) => c.name) : ['other', ...SHAPE_CATEGORIES.map((c) => c.name)];
  const spread = task === 'det' ? 'roi_head.bbox_head.fc_cls.weight' : 'decode_head.conv_seg.weight';
  for (const [name, slot] of m.model.module.namedSlots()) {
    if (name !== spread) continue;
    tf.tidy(() => slot.variable.assign(tf.randomNormal(slot.variable.shape, 0, SPREAD_STD[task], 'float32', 7)));
  }
  const bytes = await serializeCheckpoint(m.model.module, null, { iter: 0, epoch: 0, inner_iter: 0, config: cfg, classes }, { f16: opts.f16 });
  m.model.module.dispose();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return { cfg, classes };
}
