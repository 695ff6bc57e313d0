// Box overlap kernels on typed arrays (deliberate CPU code: box counts are small and the results feed
// CPU-side assignment and NMS). Boxes are flat [x1, y1, x2, y2] rows; all maths is float32 (Math.fround)
// so threshold decisions match PyTorch's float32 results bit for bit.
const f = Math.fround;

/** Number of boxes in a flat x1y1x2y2 array (throws if the length is not a multiple of 4). */
export function numBoxes(b: ArrayLike<number>, what = 'boxes'): number {
  if (b.length % 4 !== 0) throw new RangeError(`${what}: length ${b.length} is not a multiple of 4`);
  return b.length / 4;
}

/** Area (x2-x1)*(y2-y1), no +1 (mmcv/torchvision offset 0), float32. */
export function boxAreas(b: ArrayLike<number>): Float32Array {
  const n = numBoxes(b);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = f(f(b[4 * i + 2] - b[4 * i]) * f(b[4 * i + 3] - b[4 * i + 1]));
  return out;
}

/**
 * Pairwise overlaps [N, M] (row-major). `union(i, j, inter)` gives the denominator.
 * Shared by torchvision's box_iou and mmdet's bbox_overlaps, which differ only there.
 */
function pairwise(a: ArrayLike<number>, b: ArrayLike<number>, denom: (ai: number, bj: number, inter: number) => number): Float32Array {
  const n = numBoxes(a, 'boxes1');
  const m = numBoxes(b, 'boxes2');
  const areaA = boxAreas(a);
  const areaB = boxAreas(b);
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    const ax1 = a[4 * i], ay1 = a[4 * i + 1], ax2 = a[4 * i + 2], ay2 = a[4 * i + 3];
    for (let j = 0; j < m; j++) {
      const w = Math.max(f(Math.min(ax2, b[4 * j + 2]) - Math.max(ax1, b[4 * j])), 0);
      const h = Math.max(f(Math.min(ay2, b[4 * j + 3]) - Math.max(ay1, b[4 * j + 1])), 0);
      const inter = f(w * h);
      out[i * m + j] = f(inter / denom(areaA[i], areaB[j], inter));
    }
  }
  return out;
}

/** torchvision.ops.box_iou: inter / (area1 + area2 - inter); two zero-area boxes give NaN (0/0). */
export function boxIou(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  return pairwise(a, b, (ai, bj, inter) => f(f(ai + bj) - inter));
}

/**
 * mmdet 2.x bbox_overlaps (is_aligned=False): 'iou' = inter / max(union, eps),
 * 'iof' = inter / max(area1, eps) (intersection over the first set's boxes). 0/0 becomes 0.
 */
export function bboxOverlaps(a: ArrayLike<number>, b: ArrayLike<number>, mode: 'iou' | 'iof' = 'iou', eps = 1e-6): Float32Array {
  const e = f(eps);
  if (mode === 'iou') return pairwise(a, b, (ai, bj, inter) => Math.max(f(f(ai + bj) - inter), e));
  if (mode === 'iof') return pairwise(a, b, (ai) => Math.max(ai, e));
  throw new RangeError(`bboxOverlaps: mode must be 'iou' or 'iof', got '${String(mode)}'`);
}
