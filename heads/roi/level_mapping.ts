// mmdet SingleRoIExtractor.map_roi_levels: scale = sqrt(w * h) (no +1),
// level = floor(log2(scale / finest_scale + 1e-6)) clamped to [0, numLevels - 1]. float32 like torch.
const f = Math.fround;

/**
 * rois: flat rows of `cols` numbers, either (batch_idx, x1, y1, x2, y2) (cols 5, the default) or
 * (x1, y1, x2, y2) (cols 4). Returns the level index of each roi.
 */
export function mapRoiLevels(rois: ArrayLike<number>, numLevels: number, finestScale = 56, cols: 4 | 5 = 5): Int32Array {
  if (rois.length % cols !== 0) throw new RangeError(`mapRoiLevels: length ${rois.length} is not a multiple of ${cols}`);
  const k = rois.length / cols;
  const o = cols - 4;
  const out = new Int32Array(k);
  for (let i = 0; i < k; i++) {
    const r = i * cols + o;
    const scale = f(Math.sqrt(f(f(rois[r + 2] - rois[r]) * f(rois[r + 3] - rois[r + 1]))));
    const lvl = Math.floor(f(Math.log2(f(f(scale / finestScale) + f(1e-6)))));
    // NaN (negative area: an inverted roi): torch's cast gives an out-of-range level, so mmdet leaves its
    // features 0; RoIAlign gives an inverted roi 0 on any level, so level 0 is equivalent and safe to index.
    out[i] = Number.isNaN(lvl) ? 0 : Math.min(Math.max(lvl, 0), numLevels - 1);
  }
  return out;
}
