// Colour-coded segmentation predictions blended with the image, as mmseg's show_result:
// out = img * (1 - opacity) + palette[label] * opacity (opacity 0.5), written as PNG.
// Used by `tools/eval --show-dir`.
import { mkdirSync, writeFileSync } from '#platform/fs';
import { dirname, join } from '#platform/path';
import { decodeImage, encodePngRgb } from '../datasets/io/image';
import { labelColor } from './palette';
import { UserError } from '../core/errors';
import type { SegResult } from '../structures/results';

export type Palette = readonly (readonly [number, number, number])[];

/** A fixed palette of `n` distinct colours (the same colours browse_dataset uses for labels). */
export function defaultPalette(n: number): Palette {
  return Array.from({ length: n }, (_, k) => labelColor(k));
}

/**
 * Blends a label map (row-major, `width * height`) into an RGB image of the same size. Labels without
 * a palette entry (e.g. 255) leave the pixel unchanged.
 */
export function blendSegmentation(rgb: Uint8Array, labels: ArrayLike<number>, width: number, height: number, palette: Palette, opacity = 0.5): Uint8Array {
  if (rgb.length !== width * height * 3 || labels.length !== width * height) {
    throw new UserError(`blendSegmentation: image has ${rgb.length / 3} pixels, labels ${labels.length}, size ${width}x${height}`);
  }
  const out = new Uint8Array(rgb.length);
  for (let p = 0; p < labels.length; p++) {
    const col = palette[labels[p]];
    for (let c = 0; c < 3; c++) {
      const v = rgb[3 * p + c];
      out[3 * p + c] = col ? Math.round(v * (1 - opacity) + col[c] * opacity) : v;
    }
  }
  return out;
}

/**
 * Writes `<outDir>/<image name>.png`: the prediction blended with the original image (read from
 * `result.filename`). `relName` (e.g. the dataset's ori_filename) keeps sub-folders apart.
 */
export async function writeSegVisualization(outDir: string, result: SegResult, palette: Palette, relName?: string, opacity = 0.5): Promise<string> {
  const img = await decodeImage(result.filename);
  if (img.width !== result.width || img.height !== result.height) {
    throw new UserError(`${result.filename}: image is ${img.width}x${img.height} but the prediction is ${result.width}x${result.height}`);
  }
  const blended = blendSegmentation(img.data, result.sem_seg, img.width, img.height, palette, opacity);
  const name = (relName ?? result.filename.split('/').pop()!).replace(/\.[^./]+$/, '') + '.png';
  const file = join(outDir, name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, encodePngRgb({ data: blended, width: img.width, height: img.height }));
  return file;
}
