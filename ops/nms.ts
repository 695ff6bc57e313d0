// Non-maximum suppression on typed arrays: a deliberate CPU kernel (box counts are at most a few
// thousand and the result is a list of indices the caller gathers with).
//
// Semantics (torchvision.ops.nms / mmcv nms with offset 0, fixture shared/fixtures/ops/nms.json):
// IoU = inter / (area_i + area_j - inter), area = (x2-x1)*(y2-y1) in float32; box j is suppressed when
// IoU > threshold (strict), so NaN IoUs (two zero-area boxes) never suppress. Order: descending score,
// ties broken by the lower index first (a stable sort). torch's CPU sort is not stable for long runs of
// equal scores, so on ties the reference may differ in order; we match the fixture's `keep_stable_ties`,
// which equals `keep` in every shared case (README "Tie order in NMS").
// Threshold: mmcv (what mmdet calls) compares IoU > float32(threshold); torchvision (the fixture) compares
// in float64. They differ only for an IoU exactly equal to float32(threshold) when that rounds up
// (e.g. 0.3): mmcv keeps such a box, torchvision suppresses it. We follow mmcv.
import { numBoxes } from './boxes';

const f = Math.fround;

/** Indices sorted by descending score, equal scores by ascending index (stable). */
export function argsortDesc(scores: ArrayLike<number>): Int32Array {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b] - scores[a] || a - b);
  return Int32Array.from(idx);
}

/**
 * Greedy NMS over boxes in (score, index) order. With `groups`, a kept box is compared only with
 * later boxes of its own group (callers pass groups only when boxes of different groups cannot
 * overlap, so the kept list is the same as without).
 */
function nmsCore(boxes: ArrayLike<number>, scores: ArrayLike<number>, iouThreshold: number, maxNum: number, groups?: Int32Array): Int32Array {
  const n = numBoxes(boxes);
  if (scores.length !== n) throw new RangeError(`nms: ${n} boxes but ${scores.length} scores`);
  const order = argsortDesc(scores);
  // Each group's boxes in the global order and each box's position in its list (one list: `order`).
  const lists = new Map<number, Int32Array | number[]>();
  const pos = new Int32Array(n);
  if (groups) {
    for (let oi = 0; oi < n; oi++) {
      const i = order[oi];
      let list = lists.get(groups[i]) as number[] | undefined;
      if (!list) lists.set(groups[i], (list = []));
      pos[i] = list.length;
      list.push(i);
    }
  } else {
    lists.set(0, order);
    for (let oi = 0; oi < n; oi++) pos[order[oi]] = oi;
  }
  const areas = new Float32Array(n);
  for (let i = 0; i < n; i++) areas[i] = f(f(boxes[4 * i + 2] - boxes[4 * i]) * f(boxes[4 * i + 3] - boxes[4 * i + 1]));
  const suppressed = new Uint8Array(n);
  const keep: number[] = [];
  const limit = maxNum > 0 ? maxNum : n;
  // mmcv's kernel takes the threshold as a C++ float, so the comparison is float32 vs float32.
  const thr = f(iouThreshold);
  for (let oi = 0; oi < n && keep.length < limit; oi++) {
    const i = order[oi];
    if (suppressed[i]) continue;
    keep.push(i);
    const ix1 = boxes[4 * i], iy1 = boxes[4 * i + 1], ix2 = boxes[4 * i + 2], iy2 = boxes[4 * i + 3];
    const ia = areas[i];
    const list = lists.get(groups ? groups[i] : 0)!;
    for (let p = pos[i] + 1; p < list.length; p++) {
      const j = list[p];
      if (suppressed[j]) continue;
      const w = f(Math.min(ix2, boxes[4 * j + 2]) - Math.max(ix1, boxes[4 * j]));
      if (!(w > 0)) {
        // inter = 0: IoU is 0 (or NaN for two zero-area boxes); neither exceeds the threshold.
        if (!(thr < 0)) continue;
      }
      const h = f(Math.min(iy2, boxes[4 * j + 3]) - Math.max(iy1, boxes[4 * j + 1]));
      const inter = f(Math.max(w, 0) * Math.max(h, 0));
      const iou = f(inter / f(f(ia + areas[j]) - inter));
      if (iou > thr) suppressed[j] = 1;
    }
  }
  return Int32Array.from(keep);
}

/**
 * NMS. boxes: flat N*4 (x1, y1, x2, y2); returns kept indices in descending score order, at most
 * `maxNum` of them when maxNum > 0 (mmcv's max_num).
 */
export function nms(boxes: Float32Array, scores: Float32Array, iouThreshold: number, maxNum = -1): Int32Array {
  return nmsCore(boxes, scores, iouThreshold, maxNum);
}

/**
 * mmcv batched_nms (class_agnostic=False): boxes of class idx are shifted by idx * (max coordinate + 1)
 * in float32, so boxes of different classes never overlap, then one NMS runs over all of them. mmcv
 * splits into a per-class loop above 10000 boxes; with the stable order both give this result.
 * Output: kept indices sorted by score over all classes, truncated to maxNum when maxNum > 0.
 */
export function batchedNms(boxes: Float32Array, scores: Float32Array, idxs: Int32Array, iouThreshold: number, maxNum = -1): Int32Array {
  const n = numBoxes(boxes);
  if (idxs.length !== n) throw new RangeError(`batchedNms: ${n} boxes but ${idxs.length} class indices`);
  if (n === 0) return new Int32Array(0);
  let maxCoord = -Infinity;
  for (let i = 0; i < boxes.length; i++) if (boxes[i] > maxCoord) maxCoord = boxes[i];
  const step = f(maxCoord + 1);
  const shifted = new Float32Array(boxes.length);
  for (let i = 0; i < n; i++) {
    const off = f(idxs[i] * step);
    for (let c = 0; c < 4; c++) shifted[4 * i + c] = boxes[4 * i + c] + off; // Float32Array store rounds like torch
  }
  // With non-negative coordinates the shift leaves a gap of 1 between classes, so boxes of different
  // classes never overlap and the greedy loop only needs to visit the kept box's own class: the same
  // kept list, ~(number of classes) times less work (the RPN's 5 levels x 2,000 boxes per image took
  // ~170 ms of host time per Mask R-CNN train step in the global loop). Negative coordinates (or a
  // negative threshold, where IoU 0 suppresses) keep mmcv's single loop, overlaps across classes included.
  let minCoord = Infinity;
  for (let i = 0; i < boxes.length; i++) if (boxes[i] < minCoord) minCoord = boxes[i];
  const separated = minCoord >= 0 && f(iouThreshold) >= 0;
  return nmsCore(shifted, scores, iouThreshold, maxNum, separated ? idxs : undefined);
}
