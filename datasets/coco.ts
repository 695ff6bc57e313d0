/**
 * COCO instances dataset (mmdetection 2.x CocoDataset semantics):
 * - labels: categories kept (all, or those named in `classes`) in the annotation file's
 *   order -> 0..K-1; `labelToCatId`/`catIdToLabel` map both ways for results;
 * - annotations: ignore flag skipped, boxes with no overlap with the image, w<1, h<1 or
 *   area<=0 dropped, xywh -> x1y1x2y2, crowd -> gt_bboxes_ignore;
 * - filter_empty_gt (training): images without any annotation of a kept class, or
 *   smaller than min_size, are dropped; test_mode keeps every image;
 * - polygons with fewer than 6 numbers or an odd count are dropped from an instance's
 *   segmentation, and an instance left with no polygon is ignored (kept as a gt_bboxes_ignore box,
 *   no mask), as mmdetection 3.x's LoadAnnotations does (2.x raised in pycocotools' frBbox);
 *   evaluation instead rasterises them as pycocotools does, or rejects them where it raises;
 * - a non-crowd RLE whose `size` is not the image's [height, width] or whose counts do not sum to
 *   size[0]*size[1] would decode to a misplaced or truncated mask: the instance is ignored the same way;
 * - annotations whose image_id is not in `images` are dropped (mmdetection reads annotations per
 *   image, so it never sees them);
 * each of these is reported once per kind with a count and the first annotation id (core/warnings).
 */
import { existsSync, readFileSync, statSync } from '#platform/fs';
import { type Infer, s } from '../core/config_schema';
import { DatasetError } from './errors';
import { resolvePath, type RawDataset } from './base';
import { transformSchema } from './pipeline';
import type { Segmentation } from './masks';
import type { RawInstance, RawSample } from './types';
import { polygonProblem, rleCountsSum, type RleObject } from '../evaluation/mask';
import { countOf, WarningTally } from '../core/warnings';

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
  /** Set by the loader (not in the file): no usable mask (every polygon dropped, or a bad RLE), so the instance is ignored. */
  noValidMask?: boolean;
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
  /**
   * Annotations (or their polygons/masks) the loader dropped or ignored, per kind ('image_id',
   * 'polygon_odd', 'polygon_short', 'polygon_values', 'no_polygon_left', 'rle_size', 'rle_counts'):
   * the counts of the warning lines printed while reading the file.
   */
  readonly dropped: Record<string, number>;

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

    const images = new Map(coco.images.map((im) => [im.id, im]));
    const tally = new WarningTally(this.annFile);
    for (const a of coco.annotations ?? []) {
      const im = images.get(a.image_id);
      if (!im) {
        tally.add('image_id', `annotation id ${a.id ?? '?'}, image_id ${a.image_id}`, (n) => `${countOf(n, 'annotation has an image_id', 'annotations have an image_id')} that is not in 'images'`, 'they are dropped (mmdetection never reads them)');
        continue;
      }
      if (!known.has(a.category_id))
        throw new DatasetError(this.annFile, `annotation ${a.id ?? '?'} has category_id ${a.category_id}, not among the file's categories`);
      // mmdet reads ann['bbox'] unconditionally (a KeyError); name the annotation instead.
      if (!Array.isArray(a.bbox) || a.bbox.length !== 4 || !a.bbox.every((v) => typeof v === 'number' && Number.isFinite(v)))
        throw new DatasetError(this.annFile, `annotation ${a.id ?? '?'} (image_id ${a.image_id}) has no valid "bbox" (expected [x, y, width, height] of 4 finite numbers, got ${JSON.stringify(a.bbox ?? null)})`);
      let list = this.annsByImg.get(a.image_id);
      if (!list) this.annsByImg.set(a.image_id, (list = []));
      list.push(sanitizeRle(sanitizePolygons(a, tally), im, tally));
    }
    tally.flush();
    this.dropped = tally.counts();

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
      if (a.noValidMask) instances.push({ bbox: [x1, y1, x1 + w, y1 + h], label, iscrowd: true });
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

const IGNORED = 'the instances are ignored (an ignore box, no mask), as mmdetection ignores an instance without a valid mask';

/**
 * mmdetection's polygon rule for training (mmdet 3.x LoadAnnotations._process_masks): keep polygons
 * with an even count of at least 6 numbers and drop the others; an instance left without polygons
 * is ignored. Each kind is counted in `tally` (one warning line per kind, first annotation id).
 * Returns the annotation itself when nothing changes, else a copy (the parsed file stays as read,
 * for evaluation).
 */
function sanitizePolygons(a: CocoAnn, tally: WarningTally): CocoAnn {
  const seg = a.segmentation;
  if (a.iscrowd || !Array.isArray(seg) || seg.length === 0 || !Array.isArray(seg[0])) return a;
  const kept = seg.filter((p) => polygonProblem(p) === null);
  if (kept.length === seg.length) return a;
  const id = `annotation id ${a.id ?? '?'}`;
  const bad = seg as unknown[];
  const dropNote = 'those polygons are dropped (mmdetection keeps polygons of an even count of at least 6 numbers)';
  if (bad.some((p) => !Array.isArray(p) || p.some((v) => typeof v !== 'number' || !Number.isFinite(v))))
    tally.add('polygon_values', id, (n) => `${countOf(n, 'annotation has', 'annotations have')} polygons that are not lists of finite numbers`, dropNote);
  const numeric = bad.filter((p): p is unknown[] => Array.isArray(p));
  if (numeric.some((p) => p.length % 2 !== 0))
    tally.add('polygon_odd', id, (n) => `${countOf(n, 'annotation has', 'annotations have')} polygons with an odd number of coordinates`, dropNote);
  if (numeric.some((p) => p.length < 6))
    tally.add('polygon_short', id, (n) => `${countOf(n, 'annotation has', 'annotations have')} polygons with fewer than 3 points (6 numbers)`, dropNote);
  if (kept.length) return { ...a, segmentation: kept };
  tally.add('no_polygon_left', id, (n) => `${countOf(n, 'annotation has', 'annotations have')} no valid polygon left`, IGNORED);
  return { ...a, segmentation: undefined, noValidMask: true };
}

/**
 * A non-crowd RLE mask must cover its image: `size` equal to the image's [height, width] and counts
 * summing to height*width, else decoding gives a misplaced or truncated mask that training would
 * learn from. Such an instance is ignored (as mmdetection ignores an invalid mask), counted in
 * `tally` per kind. Crowd masks are never decoded for training and are left as they are; a counts
 * string that cannot be decoded is left for the mask loader to refuse naming the image.
 */
function sanitizeRle(a: CocoAnn, im: CocoImage, tally: WarningTally): CocoAnn {
  const seg = a.segmentation as unknown;
  if (a.iscrowd || typeof seg !== 'object' || seg === null || Array.isArray(seg)) return a;
  const o = seg as Partial<RleObject>;
  if (!Array.isArray(o.size) || o.size.length !== 2 || !(typeof o.counts === 'string' || Array.isArray(o.counts))) return a;
  const id = `annotation id ${a.id ?? '?'}`;
  if (o.size[0] !== im.height || o.size[1] !== im.width) {
    tally.add('rle_size', `${id}, size [${o.size.join(', ')}] for an image of [${im.height}, ${im.width}]`, (n) => `${countOf(n, 'annotation has an RLE', 'annotations have an RLE')} whose 'size' is not its image's [height, width]`, IGNORED);
    return { ...a, segmentation: undefined, noValidMask: true };
  }
  let sum: { sum: number; expected: number };
  try {
    sum = rleCountsSum(o as RleObject);
  } catch {
    return a;
  }
  if (sum.sum === sum.expected) return a;
  tally.add('rle_counts', `${id}, counts sum to ${sum.sum} for ${sum.expected} pixels`, (n) => `${countOf(n, 'annotation has an RLE', 'annotations have an RLE')} whose counts do not sum to size[0]*size[1]`, IGNORED);
  return { ...a, segmentation: undefined, noValidMask: true };
}
