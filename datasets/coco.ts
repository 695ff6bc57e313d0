/**
 * COCO instances dataset (mmdetection 2.x CocoDataset semantics):
 * - labels: categories kept (all, or those named in `classes`) in the annotation file's
 *   order -> 0..K-1; `labelToCatId`/`catIdToLabel` map both ways for results;
 * - annotations: ignore flag skipped, boxes with no overlap with the image, w<1, h<1 or
 *   area<=0 dropped, xywh -> x1y1x2y2, crowd -> gt_bboxes_ignore;
 * - filter_empty_gt (training): images without any annotation of a kept class, or
 *   smaller than min_size, are dropped; test_mode keeps every image;
 * - polygons with fewer than 6 numbers or an odd count are dropped from an instance's
 *   segmentation with a warning naming the annotation id, and an instance left with no polygon
 *   is ignored (kept as a gt_bboxes_ignore box, no mask), as mmdetection 3.x does (2.x raised
 *   in pycocotools' frBbox); evaluation instead rejects such polygons (pycocotools raises).
 */
import { existsSync, readFileSync, statSync } from '#platform/fs';
import { type Infer, s } from '../core/config_schema';
import { DatasetError } from './errors';
import { resolvePath, type RawDataset } from './base';
import { transformSchema } from './pipeline';
import type { Segmentation } from './masks';
import type { RawInstance, RawSample } from './types';
import { polygonProblem } from '../evaluation/mask';

/** CocoDataset's fields (the DATASETS registry and buildDataset validate with this). */
export const cocoDatasetSchema = s.object({
  ann_file: s.string(),
  img_prefix: s.string(),
  pipeline: s.array(transformSchema),
  data_root: s.string().optional(),
  filter_empty_gt: s.boolean().optional().describedAs('default true'),
  test_mode: s.boolean().optional().describedAs('default false'),
  classes: s.array(s.string()).optional(),
  min_size: s.number({ finite: true }).optional().describedAs("default 32 (mmdet's _filter_imgs)"),
});
export type CocoDatasetConfig = { type: 'CocoDataset' } & Infer<typeof cocoDatasetSchema>;

export const COCO_LAYOUT =
  'COCO layout: <data_root>/annotations/instances_{train,val}2017.json (ann_file) and images in <data_root>/{train,val}2017/ (img_prefix)';

interface CocoImage {
  id: number;
  file_name: string;
  height: number;
  width: number;
}
interface CocoAnn {
  id?: number;
  image_id: number;
  category_id: number;
  bbox: [number, number, number, number];
  area?: number;
  iscrowd?: number;
  ignore?: number | boolean;
  segmentation?: Segmentation;
  /** Set by the loader (not in the file): every polygon was dropped, so the instance is ignored. */
  noValidPolygon?: boolean;
}
interface CocoCategory {
  id: number;
  name: string;
}
interface CocoJson {
  images: CocoImage[];
  annotations?: CocoAnn[];
  categories: CocoCategory[];
}

export function readCocoJson(file: string): CocoJson {
  if (!existsSync(file)) throw new DatasetError(file, `annotation file not found (expected ${COCO_LAYOUT})`);
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DatasetError(file, `not valid JSON (${(e as Error).message})`);
  }
  const o = j as Partial<CocoJson>;
  if (!o || !Array.isArray(o.images) || !Array.isArray(o.categories))
    throw new DatasetError(file, 'expected a COCO instances file with "images", "annotations" and "categories" lists');
  return o as CocoJson;
}

export class CocoDataset implements RawDataset {
  readonly task = 'det' as const;
  readonly classes: string[];
  readonly catIds: number[];
  private readonly cat2label = new Map<number, number>();
  private readonly infos: CocoImage[];
  private readonly annsByImg = new Map<number, CocoAnn[]>();
  readonly annFile: string;
  readonly imgPrefix: string;
  readonly pipelineCfg: unknown[];
  /** The parsed annotation file (for evaluation). */
  readonly coco: CocoJson;

  constructor(cfg: CocoDatasetConfig, dataRoot?: string) {
    const root = dataRoot ?? cfg.data_root;
    this.annFile = resolvePath(root, cfg.ann_file);
    this.imgPrefix = resolvePath(root, cfg.img_prefix);
    this.pipelineCfg = cfg.pipeline;
    const coco = readCocoJson(this.annFile);
    this.coco = coco;
    if (!existsSync(this.imgPrefix) || !statSync(this.imgPrefix).isDirectory())
      throw new DatasetError(this.imgPrefix, `image folder not found (expected ${COCO_LAYOUT})`);

    const known = new Set(coco.categories.map((c) => c.id));
    const kept = cfg.classes ? coco.categories.filter((c) => cfg.classes!.includes(c.name)) : coco.categories;
    if (cfg.classes) {
      const missing = cfg.classes.filter((n) => !coco.categories.some((c) => c.name === n));
      if (missing.length) throw new DatasetError(this.annFile, `classes not in the file's categories: ${missing.join(', ')}`);
    }
    this.catIds = kept.map((c) => c.id);
    this.classes = kept.map((c) => c.name);
    this.catIds.forEach((id, i) => this.cat2label.set(id, i));

    const imgIds = new Set(coco.images.map((im) => im.id));
    for (const a of coco.annotations ?? []) {
      if (!known.has(a.category_id))
        throw new DatasetError(this.annFile, `annotation ${a.id ?? '?'} has category_id ${a.category_id}, not among the file's categories`);
      if (!imgIds.has(a.image_id)) throw new DatasetError(this.annFile, `annotation ${a.id ?? '?'} points to image_id ${a.image_id}, not among the file's images`);
      // mmdet reads ann['bbox'] unconditionally (a KeyError); name the annotation instead.
      if (!Array.isArray(a.bbox) || a.bbox.length !== 4 || !a.bbox.every((v) => typeof v === 'number' && Number.isFinite(v)))
        throw new DatasetError(this.annFile, `annotation ${a.id ?? '?'} (image_id ${a.image_id}) has no valid "bbox" (expected [x, y, width, height] of 4 finite numbers, got ${JSON.stringify(a.bbox ?? null)})`);
      let list = this.annsByImg.get(a.image_id);
      if (!list) this.annsByImg.set(a.image_id, (list = []));
      list.push(sanitizePolygons(a, this.annFile));
    }

    const testMode = cfg.test_mode ?? false;
    const filter = !testMode && (cfg.filter_empty_gt ?? true);
    const minSize = cfg.min_size ?? 32;
    this.infos = testMode
      ? coco.images
      : coco.images.filter((im) => {
          if (filter && !(this.annsByImg.get(im.id) ?? []).some((a) => this.cat2label.has(a.category_id))) return false;
          return Math.min(im.width, im.height) >= minSize;
        });
  }

  get length(): number {
    return this.infos.length;
  }

  /** Contiguous label -> COCO category id (for results files). */
  labelToCatId(label: number): number {
    const id = this.catIds[label];
    if (id === undefined) throw new RangeError(`label ${label} out of range 0..${this.catIds.length - 1}`);
    return id;
  }

  /** COCO category id -> contiguous label (undefined if the category is not kept). */
  catIdToLabel(catId: number): number | undefined {
    return this.cat2label.get(catId);
  }

  imageInfo(index: number): CocoImage {
    return this.infos[index];
  }

  raw(index: number): RawSample {
    const im = this.infos[index];
    const instances: RawInstance[] = [];
    for (const a of this.annsByImg.get(im.id) ?? []) {
      if (a.ignore) continue;
      const [x1, y1, w, h] = a.bbox;
      const iw = Math.max(0, Math.min(x1 + w, im.width) - Math.max(x1, 0));
      const ih = Math.max(0, Math.min(y1 + h, im.height) - Math.max(y1, 0));
      if (iw * ih === 0) continue;
      if ((a.area ?? w * h) <= 0 || w < 1 || h < 1) continue;
      const label = this.cat2label.get(a.category_id);
      if (label === undefined) continue;
      if (a.noValidPolygon) instances.push({ bbox: [x1, y1, x1 + w, y1 + h], label, iscrowd: true });
      else instances.push({ bbox: [x1, y1, x1 + w, y1 + h], label, iscrowd: !!a.iscrowd, segmentation: a.segmentation });
    }
    return {
      task: 'det',
      index,
      filename: resolvePath(this.imgPrefix, im.file_name),
      ori_filename: im.file_name,
      height: im.height,
      width: im.width,
      instances,
    };
  }
}

/**
 * mmdetection's polygon rule for training (mmdet 3.x CocoDataset.parse_data_info): keep polygons with
 * an even count of at least 6 numbers; drop the others with a warning naming the annotation. Returns
 * the annotation itself when nothing changes, else a copy (the parsed file stays as read, for evaluation).
 */
function sanitizePolygons(a: CocoAnn, file: string, warn: (msg: string) => void = console.warn): CocoAnn {
  const seg = a.segmentation;
  if (a.iscrowd || !Array.isArray(seg) || seg.length === 0 || !Array.isArray(seg[0])) return a;
  const problems = seg.map((p) => polygonProblem(p));
  if (problems.every((p) => p === null)) return a;
  const kept = seg.filter((_, i) => problems[i] === null);
  const why = problems.map((p, i) => (p ? `polygon ${i} ${p}` : '')).filter(Boolean).join('; ');
  warn(`${file}: annotation id ${a.id ?? '?'}: field 'segmentation': dropped ${seg.length - kept.length} polygon(s) (${why})${kept.length ? '' : '; no polygon left, the instance is ignored'}`);
  return kept.length ? { ...a, segmentation: kept } : { ...a, segmentation: undefined, noValidPolygon: true };
}
