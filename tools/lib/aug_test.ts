// `tools/eval --aug-test`: turns a segmentor config's test into mmseg's multi-scale + flip test
// (the recipes' commented-out MultiScaleFlipAug img_ratios with flip=True).
import type { Config } from '../../core/config_root';
import { ConfigError } from '../../core/errors';

/** mmseg's ADE20K/Cityscapes aug-test ratios (configs/_base_/datasets/*.py, `img_ratios`). */
export const MMSEG_IMG_RATIOS = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75];

/**
 * Sets model.test_cfg.flip and img_ratios (keeping ratios the config already gives). Throws
 * ConfigError naming `file` for a model without a segmentation test_cfg (detectors).
 */
export function applyAugTest(cfg: Config, file: string): void {
  const model = cfg.model as { type?: string; test_cfg?: { mode?: string; flip?: boolean; img_ratios?: number[] } };
  if (model.type !== 'EncoderDecoder') throw new ConfigError(`${file}: --aug-test is for segmentors (model.type EncoderDecoder), not '${model.type}'`, 'model.type', file);
  const tc = model.test_cfg ?? { mode: 'whole' };
  model.test_cfg = { ...tc, flip: true, img_ratios: tc.img_ratios?.length ? tc.img_ratios : MMSEG_IMG_RATIOS };
}
