// Confusion matrices of detection and semantic segmentation results.
// Detection follows mmdetection's tools/analysis_tools/confusion_matrix.py (calculate_confusion_matrix,
// analyze_per_img_dets): rows are ground-truth classes, columns predicted classes, the last row and
// column "background". A detection with score >= score_thr adds 1 at [gt, det] for EVERY
// ground-truth box it overlaps with IoU >= tp_iou_thr (any class); one that overlaps none is a
// background false positive [bg, det]; a ground-truth box no same-class detection matched is a
// false negative [gt, bg]. Crowd boxes are left out (mmdet's CocoDataset puts them in
// bboxes_ignore). IoU as mmdet's bbox_overlaps (no +1 on widths).
// Segmentation: pixel counts [gt, pred] over pixels whose GT is not ignore_index (no background row).
import { EvalInputError } from './errors';

export interface DetConfusionOptions {
  /** Detections below this score are not counted (mmdet default 0.3). */
  scoreThr?: number;
  /** IoU at which a detection matches a ground-truth box (mmdet default 0.5). */
  tpIouThr?: number;
}

export interface ConfusionMatrix {
  /** Row/column names: classes, plus 'background' for detection. */
  names: string[];
  /** Row-major counts [gt][pred], names.length^2. */
  counts: Float64Array;
}

interface GtJson {
  images: { id: number }[];
  annotations: { image_id: number; category_id: number; bbox: number[]; iscrowd?: number }[];
  categories: { id: number; name: string }[];
}
interface DtJson {
  image_id: number;
  category_id: number;
  bbox: number[];
  score: number;
}

/** IoU of two [x, y, w, h] boxes (mmdet bbox_overlaps on xyxy without +1). */
function iouXywh(a: readonly number[], b: readonly number[]): number {
  const iw = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / Math.max(a[2] * a[3] + b[2] * b[3] - inter, 1e-6);
}

/**
 * Detection confusion matrix of COCO-format ground truth and bbox results (the files tools/eval
 * --out writes). Classes are the GT categories sorted by id (label k = k-th category, as our
 * CocoDataset). Throws EvalInputError naming the result whose category_id is not a GT category.
 */
export function detectionConfusionMatrix(gt: GtJson, results: readonly DtJson[], opts: DetConfusionOptions = {}, source = 'results'): ConfusionMatrix {
  const scoreThr = opts.scoreThr ?? 0.3;
  const iouThr = opts.tpIouThr ?? 0.5;
  const cats = [...gt.categories].sort((a, b) => a.id - b.id);
  const label = new Map(cats.map((c, k) => [c.id, k]));
  const C = cats.length;
  const n = C + 1;
  const counts = new Float64Array(n * n);
  const gts = new Map<number, { label: number; bbox: number[] }[]>();
  for (const im of gt.images) gts.set(im.id, []);
  for (const a of gt.annotations) {
    if (a.iscrowd) continue;
    const k = label.get(a.category_id);
    if (k === undefined) continue;
    gts.get(a.image_id)?.push({ label: k, bbox: a.bbox });
  }
  const dts = new Map<number, DtJson[]>();
  results.forEach((d, i) => {
    if (!label.has(d.category_id)) throw new EvalInputError(`${source}: result #${i} has category_id ${d.category_id}, not a category of the ground truth`);
    if (!dts.has(d.image_id)) dts.set(d.image_id, []);
    dts.get(d.image_id)!.push(d);
  });
  for (const [imageId, g] of gts) {
    const tp = new Int32Array(g.length);
    for (const d of dts.get(imageId) ?? []) {
      if (d.score < scoreThr) continue;
      const dl = label.get(d.category_id)!;
      let matched = 0;
      g.forEach((gb, j) => {
        if (iouXywh(d.bbox, gb.bbox) >= iouThr) {
          matched++;
          if (gb.label === dl) tp[j]++;
          counts[gb.label * n + dl]++;
        }
      });
      if (!matched) counts[C * n + dl]++;
    }
    g.forEach((gb, j) => {
      if (!tp[j]) counts[gb.label * n + C]++;
    });
  }
  return { names: [...cats.map((c) => c.name), 'background'], counts };
}

/** Adds one label map pair to a segmentation confusion matrix of `numClasses` (pixels with gt = ignoreIndex or out of range skipped). */
export function addSegConfusion(counts: Float64Array, numClasses: number, pred: ArrayLike<number>, gt: ArrayLike<number>, ignoreIndex = 255, reduceZeroLabel = false): void {
  if (pred.length !== gt.length) throw new EvalInputError(`label maps differ in size: ${pred.length} vs ${gt.length} pixels`);
  for (let p = 0; p < gt.length; p++) {
    let g = gt[p];
    if (reduceZeroLabel) g = g === 0 ? 255 : g - 1;
    if (g === ignoreIndex || g < 0 || g >= numClasses) continue;
    const q = pred[p];
    if (q < 0 || q >= numClasses) continue;
    counts[g * numClasses + q]++;
  }
}

/** Each row divided by its sum, in percent (mmdet's plot normalisation); rows summing to 0 stay 0. */
export function normalizeRows(m: ConfusionMatrix): Float64Array {
  const n = m.names.length;
  const out = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let c = 0; c < n; c++) s += m.counts[r * n + c];
    if (s > 0) for (let c = 0; c < n; c++) out[r * n + c] = (100 * m.counts[r * n + c]) / s;
  }
  return out;
}
