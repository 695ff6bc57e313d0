// Draws any prediction structure on its original image, as `tools/eval --show-dir` writes them:
// detections (boxes, masks, "label score") or a colour-coded label map blended with the image.
// Dispatches on the result's structure (structures/results), not on the model type.
import { mkdirSync, writeFileSync } from '#platform/fs';
import { dirname, join } from '#platform/path';
import { UserError } from '../core/errors';
import { decodeImage, encodePngRgb } from '../datasets/io/image';
import { instanceResultBitmaps } from '../structures/mask_rle';
import { type InstanceResult, isInstanceResult, isSegResult } from '../structures/results';
import { drawDetections } from './draw_detections';
import { defaultPalette, writeSegVisualization } from './seg_overlay';

export interface DrawResultOptions {
  /** Class names (label k is classes[k]); label numbers are drawn without them. */
  classes: readonly string[];
  /** Integer upscaling of detection drawings, or 'auto' (default: small images are enlarged so captions stay legible). */
  scale?: number | 'auto';
  /** Detections drawn: score >= this. */
  scoreThr: number;
}

/**
 * Writes `<dir>/<ori_filename with .png>` (sub-folders kept) showing `result` on the image
 * `image.filename`; returns the written path. Throws UserError for a result it cannot draw.
 */
export async function writeResultImage(dir: string, result: unknown, image: { filename: string; ori_filename: string }, opts: DrawResultOptions): Promise<string> {
  if (isSegResult(result)) return writeSegVisualization(dir, result, defaultPalette(Math.max(opts.classes.length, 1)), image.ori_filename);
  if (isInstanceResult(result)) {
    const r = result as InstanceResult;
    const bitmaps = r.masks && r.masks.length && !(r.masks[0] instanceof Uint8Array) ? instanceResultBitmaps(r) : (result as Parameters<typeof drawDetections>[1]);
    const file = join(dir, image.ori_filename.replace(/\.[^./]+$/, '') + '.png');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, encodePngRgb(drawDetections(await decodeImage(image.filename), bitmaps, { classes: opts.classes, scoreThr: opts.scoreThr, scale: opts.scale ?? 'auto' })));
    return file;
  }
  throw new UserError('--show-dir: the model returns results that are neither detections nor segmentation maps; nothing to draw');
}
