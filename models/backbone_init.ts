// Backbone `init_cfg: {type: 'Pretrained', checkpoint, prefix?}`, shared by the detector and segmentor
// builders. Backbones only record the spec (they never read files); the model builders load it here.
import { existsSync } from '#platform/fs';
import { loadBackboneWeights } from '../core/checkpoint_io';
import type { Module } from '../nn/module';

/**
 * Applies the backbone's `init_cfg: {type: 'Pretrained', checkpoint}` as mmdet does: loaded
 * non-strictly (missing/unexpected keys reported, shape mismatches fatal). A missing file is not fatal:
 * the backbone keeps its random initialisation and a warning says so (training from scratch).
 */
export function initBackbone(backbone: Module, warn: (msg: string) => void = (m) => console.warn(m)): 'loaded' | 'scratch' | 'none' {
  const pre = (backbone as Module & { pretrained?: { checkpoint: string; prefix?: string } | null }).pretrained;
  if (!pre) return 'none';
  if (!existsSync(pre.checkpoint)) {
    warn(`warning: model.backbone.init_cfg.checkpoint ${pre.checkpoint} not found; the backbone is trained from scratch`);
    return 'scratch';
  }
  const r = loadBackboneWeights(backbone, pre.checkpoint, { strict: false, prefix: pre.prefix });
  const list = (keys: string[]) => (keys.length ? ` (${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', ...' : ''})` : '');
  if (r.missing.length || r.unexpected.length) {
    warn(`backbone weights from ${pre.checkpoint}: ${r.missing.length} missing key(s)${list(r.missing)}, ${r.unexpected.length} unexpected key(s)${list(r.unexpected)}`);
  }
  return 'loaded';
}
