// The COCO annotation API with pycocotools' behaviour: index, id filters, loadRes, annToRLE.

import { countOf, WarningTally, type WarningSink } from '../core/warnings';
import { EvalInputError, ResultsMismatchError } from './errors';
import { readJsonFile } from './json_file';
import * as mask from './mask';
import type { Bbox, Rle, RleObject } from './mask';

export interface CocoImage {
  id: number;
  width: number;
  height: number;
  file_name?: string;
  [key: string]: unknown;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
  [key: string]: unknown;
}

export type Segmentation = number[][] | RleObject;

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox?: number[];
  area?: number;
  iscrowd?: number | boolean;
  segmentation?: Segmentation;
  score?: number;
  [key: string]: unknown;
}

export interface CocoDataset {
  images?: CocoImage[];
  annotations?: CocoAnnotation[];
  categories?: CocoCategory[];
  [key: string]: unknown;
}

/** A detection result row as written by a detector (the COCO results format). */
export interface CocoResult {
  image_id: number;
  category_id: number;
  score: number;
  bbox?: number[];
  segmentation?: Segmentation;
  [key: string]: unknown;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function requireNumber(o: Record<string, unknown>, field: string, what: () => string): void {
  if (!(field in o)) throw new EvalInputError(`${what()}: missing field '${field}'`);
  if (typeof o[field] !== 'number') throw new EvalInputError(`${what()}: field '${field}' must be a number, got ${JSON.stringify(o[field])}`);
}

export class COCO {
  dataset: CocoDataset;
  anns = new Map<number, CocoAnnotation>();
  imgs = new Map<number, CocoImage>();
  cats = new Map<number, CocoCategory>();
  imgToAnns = new Map<number, CocoAnnotation[]>();
  catToImgs = new Map<number, number[]>();
  /** Where the data came from, used in error messages. */
  source: string;
  /** Decoded GT masks per annotation object (result sets decode on demand to save memory). */
  private rleCache = new WeakMap<object, Rle>();
  private cacheRles = true;
  /** For a set made by loadRes: which branch loaded it ('bbox' rows keep no polygon; see loadRes). */
  resultType: 'bbox' | 'segm' | null = null;
  /**
   * The warning lines printed while loading (one per kind of input pycocotools accepts although it
   * is likely wrong: see warnAcceptedInput and loadRes).
   */
  warnings: string[] = [];

  /**
   * Builds from a dataset object, a path to an instances JSON, or nothing (an empty set).
   * `opts.warn` receives the warning lines about accepted but likely wrong input (default console.warn).
   */
  constructor(data?: string | CocoDataset, source?: string, opts: { warn?: WarningSink } = {}) {
    if (typeof data === 'string') {
      const parsed = readJsonFile(data);
      if (!isObj(parsed)) throw new EvalInputError(`${data}: expected a JSON object with images/annotations/categories`);
      this.dataset = parsed as CocoDataset;
      this.source = data;
    } else {
      this.dataset = data ?? {};
      this.source = source ?? 'dataset';
    }
    this.validate();
    this.createIndex();
    this.warnAcceptedInput(opts.warn);
  }

  /**
   * Annotations pycocotools takes although they are likely wrong, reported once per kind with a count
   * and the first annotation id (stderr); nothing is changed, so the numbers stay pycocotools':
   * - image_id not in `images`: COCOeval selects annotations by the GT image ids, so they are never
   *   evaluated;
   * - polygons with an odd count (rasterised from floor(n/2) points) or, after the first, with fewer
   *   than 6 numbers (rasterised from their 0-2 points); a list pycocotools raises on is refused when
   *   its mask is needed (annToRLE), not here;
   * - an RLE whose `size` is not the image's [height, width] (its mask IoU is -1 against masks of
   *   the image size, so it is never matched) or whose counts do not sum to size[0]*size[1].
   */
  private warnAcceptedInput(sink?: WarningSink): void {
    const anns = this.dataset.annotations;
    if (!anns?.length) return;
    const tally = new WarningTally(this.source);
    const asGiven = 'pycocotools evaluates them as given';
    const have = (n: number, what: string) => `${countOf(n, 'annotation has', 'annotations have')} ${what}`;
    for (const ann of anns) {
      const id = `annotation id ${ann.id}`;
      const img = this.imgs.get(ann.image_id);
      if (!img) tally.add('image_id', `${id}, image_id ${ann.image_id}`, (n) => have(n, "an image_id that is not in 'images'"), 'pycocotools never evaluates them');
      const segm = ann.segmentation as unknown;
      if (Array.isArray(segm)) {
        if (segm.length === 0 || !Array.isArray(segm[0])) continue;
        const c = mask.checkPolygonList(segm);
        if (c.error) continue;
        if (c.odd) tally.add('polygon_odd', id, (n) => have(n, 'polygons with an odd number of coordinates'), `${asGiven} (the last value is not used)`);
        if (c.short) tally.add('polygon_short', id, (n) => have(n, 'polygons with fewer than 3 points (6 numbers)'), `${asGiven} (a polygon of 0-2 points adds no pixels)`);
      } else if (isObj(segm)) {
        checkRleInput(segm, img, id, tally, (n, what) => have(n, what));
      }
    }
    this.warnings = tally.flush(sink);
  }

  private validate(): void {
    const src = this.source;
    for (const key of ['images', 'annotations', 'categories'] as const) {
      const v = this.dataset[key];
      if (v !== undefined && !Array.isArray(v)) throw new EvalInputError(`${src}: field '${key}' must be a list`);
    }
    (this.dataset.images ?? []).forEach((img, i) => {
      if (!isObj(img)) throw new EvalInputError(`${src}: images[${i}] must be an object`);
      requireNumber(img, 'id', () => `${src}: images[${i}]`);
    });
    (this.dataset.categories ?? []).forEach((cat, i) => {
      if (!isObj(cat)) throw new EvalInputError(`${src}: categories[${i}] must be an object`);
      requireNumber(cat, 'id', () => `${src}: categories[${i}]`);
    });
    (this.dataset.annotations ?? []).forEach((ann, i) => {
      if (!isObj(ann)) throw new EvalInputError(`${src}: annotations[${i}] must be an object`);
      const name = () => `${src}: annotation ${'id' in ann ? `id ${JSON.stringify(ann.id)}` : `#${i}`}`;
      requireNumber(ann, 'id', name);
      requireNumber(ann, 'image_id', name);
      requireNumber(ann, 'category_id', name);
    });
  }

  createIndex(): void {
    this.anns.clear();
    this.imgs.clear();
    this.cats.clear();
    this.imgToAnns.clear();
    this.catToImgs.clear();
    for (const ann of this.dataset.annotations ?? []) {
      let list = this.imgToAnns.get(ann.image_id);
      if (!list) this.imgToAnns.set(ann.image_id, (list = []));
      list.push(ann);
      this.anns.set(ann.id, ann);
    }
    for (const img of this.dataset.images ?? []) this.imgs.set(img.id, img);
    for (const cat of this.dataset.categories ?? []) this.cats.set(cat.id, cat);
    if (this.dataset.annotations && this.dataset.categories) {
      for (const ann of this.dataset.annotations) {
        let list = this.catToImgs.get(ann.category_id);
        if (!list) this.catToImgs.set(ann.category_id, (list = []));
        list.push(ann.image_id);
      }
    }
  }

  /**
   * Annotation ids filtered by image ids, category ids, area range (exclusive bounds, as
   * pycocotools) and iscrowd (null = any). Empty filters select everything.
   */
  getAnnIds(opts: { imgIds?: number | number[]; catIds?: number | number[]; areaRng?: number[]; iscrowd?: boolean | number | null } = {}): number[] {
    const imgIds = toList(opts.imgIds);
    const catIds = toList(opts.catIds);
    const areaRng = opts.areaRng ?? [];
    let anns: CocoAnnotation[];
    if (imgIds.length === 0 && catIds.length === 0 && areaRng.length === 0) {
      anns = this.dataset.annotations ?? [];
    } else {
      if (imgIds.length > 0) {
        anns = [];
        for (const id of imgIds) {
          const list = this.imgToAnns.get(id);
          if (list) for (const a of list) anns.push(a);
        }
      } else anns = this.dataset.annotations ?? [];
      if (catIds.length > 0) {
        const set = new Set(catIds);
        anns = anns.filter((a) => set.has(a.category_id));
      }
      if (areaRng.length > 0) anns = anns.filter((a) => (a.area as number) > areaRng[0] && (a.area as number) < areaRng[1]);
    }
    const iscrowd = opts.iscrowd;
    if (iscrowd !== undefined && iscrowd !== null) return anns.filter((a) => Number(a.iscrowd) === Number(iscrowd)).map((a) => a.id);
    return anns.map((a) => a.id);
  }

  /** Category ids filtered by names, supercategory names and ids (in dataset order). */
  getCatIds(opts: { catNms?: string | string[]; supNms?: string | string[]; catIds?: number | number[] } = {}): number[] {
    const catNms = toList(opts.catNms);
    const supNms = toList(opts.supNms);
    const catIds = toList(opts.catIds);
    let cats = this.dataset.categories ?? [];
    if (catNms.length > 0) cats = cats.filter((c) => catNms.includes(c.name));
    if (supNms.length > 0) cats = cats.filter((c) => supNms.includes(c.supercategory as string));
    if (catIds.length > 0) cats = cats.filter((c) => catIds.includes(c.id));
    return cats.map((c) => c.id);
  }

  /** Image ids that contain all the given categories (intersection), restricted to imgIds if given. */
  getImgIds(opts: { imgIds?: number | number[]; catIds?: number | number[] } = {}): number[] {
    const imgIds = toList(opts.imgIds);
    const catIds = toList(opts.catIds);
    if (imgIds.length === 0 && catIds.length === 0) return [...this.imgs.keys()];
    let ids = new Set(imgIds);
    catIds.forEach((catId, i) => {
      const withCat = new Set(this.catToImgs.get(catId) ?? []);
      if (i === 0 && ids.size === 0) ids = withCat;
      else ids = new Set([...ids].filter((id) => withCat.has(id)));
    });
    return [...ids];
  }

  loadAnns(ids: number | number[]): CocoAnnotation[] {
    return toList(ids).map((id) => this.lookup(this.anns, id, 'annotation'));
  }

  loadCats(ids: number | number[]): CocoCategory[] {
    return toList(ids).map((id) => this.lookup(this.cats, id, 'category'));
  }

  loadImgs(ids: number | number[]): CocoImage[] {
    return toList(ids).map((id) => this.lookup(this.imgs, id, 'image'));
  }

  private lookup<T>(map: Map<number, T>, id: number, what: string): T {
    const v = map.get(id);
    if (v === undefined) throw new EvalInputError(`${this.source}: no ${what} with id ${id}`);
    return v;
  }

  /** The annotation's mask as an RLE: polygons are rasterised and unioned; uncompressed RLE encoded. */
  annToRLE(ann: CocoAnnotation): Rle {
    if (!this.cacheRles) return this.computeRle(ann);
    const cached = this.rleCache.get(ann);
    if (cached) return cached;
    const rle = this.computeRle(ann);
    this.rleCache.set(ann, rle);
    return rle;
  }

  private computeRle(ann: CocoAnnotation): Rle {
    const img = this.imgs.get(ann.image_id);
    if (!img) throw new EvalInputError(`${this.source}: annotation id ${ann.id}: image_id ${ann.image_id} is not in images`);
    const segm = ann.segmentation;
    if (segm === undefined && this.resultType === 'bbox' && Array.isArray(ann.bbox)) {
      // pycocotools stores the box as the polygon [[x1,y1,x1,y2,x2,y2,x2,y1]]; we rasterise it here.
      const { height, width } = imageSize(img, this.source);
      const bb = ann.bbox;
      const [x1, x2, y1, y2] = [bb[0], bb[0] + bb[2], bb[1], bb[1] + bb[3]];
      return mask.frPoly([x1, y1, x1, y2, x2, y2, x2, y1], height, width);
    }
    if (segm === undefined || segm === null) throw new EvalInputError(`${this.source}: annotation id ${ann.id}: missing field 'segmentation'`);
    if (Array.isArray(segm)) {
      const { height, width } = imageSize(img, this.source);
      try {
        const rles = mask.frPyObjects(segm, height, width);
        return Array.isArray(rles) ? mask.merge(rles) : rles;
      } catch (e) {
        if (!(e instanceof EvalInputError)) throw e;
        throw new EvalInputError(`${this.source}: annotation id ${ann.id}: field 'segmentation': ${e.message}`);
      }
    }
    if (!isObj(segm) || !('counts' in segm) || !Array.isArray(segm.size) || segm.size.length !== 2) {
      throw new EvalInputError(
        `${this.source}: annotation id ${ann.id}: field 'segmentation' must be a list of polygons or an RLE {size:[h,w], counts}`,
      );
    }
    if (typeof segm.counts !== 'string' && !Array.isArray(segm.counts)) {
      throw new EvalInputError(`${this.source}: annotation id ${ann.id}: field 'segmentation.counts' must be a string or a list of integers`);
    }
    return mask.fromObject(segm);
  }

  /** Row-major 0/1 mask of shape [height, width]. */
  annToMask(ann: CocoAnnotation): Uint8Array {
    return mask.decodeRowMajor(this.annToRLE(ann));
  }

  /**
   * Loads detection results against this GT, as pycocotools' loadRes: every result image id must be
   * a GT image id; the first row decides bbox vs segm; ids run 1..N; bbox rows take area = w*h,
   * segm rows take area (and bbox if absent) from the mask; iscrowd = 0. Unlike pycocotools an empty
   * list is accepted (an empty detection set), and bbox rows without a mask do not get the box
   * polygon stored as their 'segmentation' (annToRLE rasterises the box when asked instead).
   */
  loadRes(results: string | unknown[], source?: string): COCO {
    let anns: unknown;
    let src = source ?? 'results';
    if (typeof results === 'string') {
      src = results;
      anns = readJsonFile(results);
    } else anns = results;
    if (!Array.isArray(anns)) throw new EvalInputError(`${src}: results must be a JSON list of objects`);
    anns.forEach((a, i) => {
      if (!isObj(a)) throw new EvalInputError(`${src}: result #${i} must be an object`);
      const name = () => `${src}: result #${i}`;
      requireNumber(a, 'image_id', name);
      requireNumber(a, 'category_id', name);
    });
    const rows = anns as CocoResult[];
    const missing = rows.find((a) => !this.imgs.has(a.image_id));
    if (missing) {
      throw new ResultsMismatchError(
        `${src}: results do not correspond to the GT set: image_id ${missing.image_id} is not in ${this.source}`,
      );
    }
    const tally = new WarningTally(src);
    const rowsHave = (n: number, what: string) => `${countOf(n, 'result row has', 'result rows have')} ${what}`;
    rows.forEach((a, i) => {
      // COCOeval evaluates the GT's category ids only (Params.catIds), so such rows never count.
      if (!this.cats.has(a.category_id))
        tally.add('category_id', `result #${i}, category_id ${a.category_id}`, (n) => rowsHave(n, `a category_id that is not in the categories of ${this.source}`), 'pycocotools does not evaluate them');
    });
    const res = new COCO({ images: [...(this.dataset.images ?? [])] }, src);
    res.cacheRles = false;
    const out = rows as unknown as CocoAnnotation[];
    if (rows.length > 0) {
      const first = rows[0];
      res.dataset.categories = structuredClone(this.dataset.categories ?? []);
      if ('bbox' in first && !(Array.isArray(first.bbox) && first.bbox.length === 0)) {
        res.resultType = 'bbox';
        rows.forEach((ann, i) => {
          const bb = checkBbox(ann.bbox, () => `${src}: result #${i}`);
          if (isObj(ann.segmentation)) checkRleInput(ann.segmentation, this.imgs.get(ann.image_id), `result #${i}`, tally, rowsHave);
          out[i].area = bb[2] * bb[3];
          out[i].id = i + 1;
          out[i].iscrowd = 0;
        });
      } else if ('segmentation' in first) {
        res.resultType = 'segm';
        rows.forEach((ann, i) => {
          const rle = resultRle(ann, () => `${src}: result #${i}`);
          checkRleInput(ann.segmentation as unknown as Record<string, unknown>, this.imgs.get(ann.image_id), `result #${i}`, tally, rowsHave, rle);
          out[i].area = mask.area(rle);
          if (!('bbox' in ann)) out[i].bbox = mask.toBbox(rle) as Bbox;
          out[i].id = i + 1;
          out[i].iscrowd = 0;
        });
      } else {
        throw new EvalInputError(`${src}: result #0: expected a 'bbox' or a 'segmentation' field`);
      }
    }
    res.dataset.annotations = out;
    res.createIndex();
    res.warnings = tally.flush();
    return res;
  }
}

/**
 * Counts an RLE whose `size` is not its image's [height, width] ('rle_size') or whose counts do not
 * sum to size[0]*size[1] ('rle_counts') in `tally`; pycocotools checks neither. `decoded` saves
 * decoding the counts again; a malformed RLE is left for the reader that uses it to refuse.
 */
function checkRleInput(
  s: Record<string, unknown>,
  img: CocoImage | undefined,
  who: string,
  tally: WarningTally,
  have: (n: number, what: string) => string,
  decoded?: Rle,
): void {
  const size = s.size;
  if (!Array.isArray(size) || size.length !== 2 || !(typeof s.counts === 'string' || Array.isArray(s.counts))) return;
  const asGiven = 'pycocotools evaluates them as given';
  if (img && (size[0] !== img.height || size[1] !== img.width)) {
    tally.add('rle_size', `${who}, size [${size.join(', ')}] for an image of [${img.height}, ${img.width}]`, (n) => have(n, "an RLE whose 'size' is not its image's [height, width]"), `${asGiven} (mask IoU -1 against masks of the image size: never matched)`);
  }
  let sum: number;
  let expected: number;
  if (decoded) {
    sum = 0;
    for (let i = 0; i < decoded.counts.length; i++) sum += decoded.counts[i];
    expected = decoded.h * decoded.w;
  } else {
    try {
      ({ sum, expected } = mask.rleCountsSum(s as unknown as RleObject));
    } catch {
      return;
    }
  }
  if (sum !== expected) {
    tally.add('rle_counts', `${who}, counts sum to ${sum} for ${expected} pixels`, (n) => have(n, 'an RLE whose counts do not sum to size[0]*size[1]'),
      `${asGiven}; one whose box overlaps another mask of its size stops the evaluation (pycocotools loops forever there)`);
  }
}

function checkBbox(bb: unknown, name: () => string): number[] {
  if (bb === undefined) throw new EvalInputError(`${name()}: missing field 'bbox'`);
  if (!Array.isArray(bb) || bb.length !== 4 || bb.some((v) => typeof v !== 'number')) {
    throw new EvalInputError(`${name()}: field 'bbox' must be [x, y, w, h] numbers, got ${JSON.stringify(bb)}`);
  }
  return bb as number[];
}

/** A result's mask: pycocotools' area()/toBbox() take an RLE object (string or list counts here). */
function resultRle(ann: CocoResult, name: () => string): Rle {
  const s = ann.segmentation;
  if (s === undefined) throw new EvalInputError(`${name()}: missing field 'segmentation'`);
  if (!isObj(s) || !Array.isArray(s.size) || s.size.length !== 2 || !(typeof s.counts === 'string' || Array.isArray(s.counts))) {
    throw new EvalInputError(`${name()}: field 'segmentation' must be an RLE {size:[h,w], counts}`);
  }
  const o = s as RleObject;
  // A scratch view is enough: only area and bbox are taken from it.
  let counts: Uint32Array;
  try {
    counts = typeof o.counts === 'string' ? mask.countsFromStringView(o.counts) : Uint32Array.from(o.counts);
  } catch (e) {
    throw new EvalInputError(`${name()}: field 'segmentation.counts': ${(e as Error).message}`);
  }
  return { h: o.size[0], w: o.size[1], counts };
}

export function imageSize(img: CocoImage, source: string): { height: number; width: number } {
  if (typeof img.height !== 'number' || typeof img.width !== 'number') {
    throw new EvalInputError(`${source}: image id ${img.id}: fields 'height' and 'width' must be numbers`);
  }
  return { height: img.height, width: img.width };
}

function toList<T>(v: T | T[] | undefined): T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}
