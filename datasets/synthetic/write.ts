/**
 * Writes generated scenes as a COCO-layout instance dataset or an ADE20K-layout
 * semantic dataset. Scene i of a split is the same in both layouts for a given seed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../core/rng';
import { encodeJpeg, encodeLabelPng } from '../io/image';
import { bitmapToUncompressedRle } from '../masks';
import { makeScene, SHAPE_CATEGORIES, type Scene } from './shapes';

export interface ShapesOptions {
  train: number;
  val: number;
  /** Longest side; each image is between 0.75*size and size per side. */
  size: number;
  seed: number;
  /** Fixed image size instead (e.g. 640x480 for benchmarks). */
  width?: number;
  height?: number;
  quality?: number; // JPEG quality, default 90
  /** Called after each image is written (tools/make_dataset's progress bar). */
  onImage?: () => void;
}

export const SPLITS = { coco: ['train', 'val'], ade: ['training', 'validation'] } as const;

export function sceneFor(opts: ShapesOptions, split: 0 | 1, i: number): Scene {
  const rng = new Rng(Rng.derive(opts.seed, split, i));
  const w = opts.width ?? Math.round(opts.size * rng.uniform(0.75, 1));
  const h = opts.height ?? Math.round(opts.size * rng.uniform(0.75, 1));
  return makeScene(rng, { width: w, height: h });
}

const fileName = (i: number) => `${String(i + 1).padStart(6, '0')}`;

export async function writeShapesCoco(out: string, opts: ShapesOptions): Promise<{ images: number; annotations: number }> {
  mkdirSync(join(out, 'annotations'), { recursive: true });
  let annId = 1;
  let imgId = 1;
  for (const [split, name] of SPLITS.coco.entries()) {
    const n = split === 0 ? opts.train : opts.val;
    mkdirSync(join(out, name), { recursive: true });
    const images: object[] = [];
    const annotations: object[] = [];
    for (let i = 0; i < n; i++) {
      const sc = sceneFor(opts, split as 0 | 1, i);
      const file = `${fileName(i)}.jpg`;
      writeFileSync(join(out, name, file), await encodeJpeg({ data: sc.rgb, width: sc.width, height: sc.height }, opts.quality ?? 90));
      const id = imgId++;
      opts.onImage?.();
      images.push({ id, file_name: file, width: sc.width, height: sc.height });
      for (const o of sc.objects) {
        annotations.push({
          id: annId++,
          image_id: id,
          category_id: SHAPE_CATEGORIES[o.label].id,
          bbox: o.bbox,
          area: o.area,
          iscrowd: o.iscrowd ? 1 : 0,
          segmentation: o.iscrowd ? bitmapToUncompressedRle(o.mask, sc.height, sc.width) : [o.polygon],
        });
      }
    }
    const categories = SHAPE_CATEGORIES.map((c) => ({ id: c.id, name: c.name, supercategory: 'shape' }));
    const info = { description: `shapes-coco synthetic dataset (seed ${opts.seed})`, version: '1.0' };
    writeFileSync(join(out, 'annotations', `instances_${name}.json`), JSON.stringify({ info, images, annotations, categories }));
  }
  return { images: imgId - 1, annotations: annId - 1 };
}

export async function writeShapesAde(out: string, opts: ShapesOptions): Promise<{ images: number }> {
  let count = 0;
  for (const [split, name] of SPLITS.ade.entries()) {
    const n = split === 0 ? opts.train : opts.val;
    mkdirSync(join(out, 'images', name), { recursive: true });
    mkdirSync(join(out, 'annotations', name), { recursive: true });
    for (let i = 0; i < n; i++) {
      const sc = sceneFor(opts, split as 0 | 1, i);
      writeFileSync(join(out, 'images', name, `${fileName(i)}.jpg`), await encodeJpeg({ data: sc.rgb, width: sc.width, height: sc.height }, opts.quality ?? 90));
      writeFileSync(join(out, 'annotations', name, `${fileName(i)}.png`), encodeLabelPng({ data: sc.labels, width: sc.width, height: sc.height }));
      count++;
      opts.onImage?.();
    }
  }
  // Label k of the PNGs (k >= 1) is classes[k-1] once reduce_zero_label drops 0 ("other").
  writeFileSync(join(out, 'classes.json'), JSON.stringify(SHAPE_CATEGORIES.map((c) => c.name)));
  return { images: count };
}
