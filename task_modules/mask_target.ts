// mmdet 2.x mask_target_single + BitmapMasks.crop_and_resize: each positive proposal, clipped to the
// mask canvas, crops its assigned gt mask with RoIAlign (aligned, sampling_ratio 0 = adaptive,
// spatial_scale 1) to maskSize x maskSize, binarised at >= 0.5. A deliberate CPU step: gt masks live as
// typed arrays and the result is a small loss target.
import { roiAlignSingle } from '../ops/roi_align';

/**
 * posProposals: flat [P*4] (x1, y1, x2, y2) in the coordinates of the (padded, resized) image;
 * posAssignedGtInds[p]: index into gtMasks; gtMasks[g]: maskH*maskW row-major 0/1.
 * Returns [P*maskSize*maskSize] of 0/1.
 */
export function maskTargets(
  posProposals: Float32Array,
  posAssignedGtInds: Int32Array,
  gtMasks: Uint8Array[],
  maskH: number,
  maskW: number,
  maskSize: number,
): Float32Array {
  const p = posAssignedGtInds.length;
  if (posProposals.length !== p * 4) throw new RangeError(`maskTargets: ${posProposals.length / 4} proposals vs ${p} assigned gt indices`);
  const s2 = maskSize * maskSize;
  const out = new Float32Array(p * s2);
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  for (let k = 0; k < p; k++) {
    const gi = posAssignedGtInds[k];
    const m = gtMasks[gi];
    if (!m) throw new RangeError(`maskTargets: proposal ${k} is assigned to gt ${gi}, but there are ${gtMasks.length} masks`);
    if (m.length !== maskH * maskW) throw new RangeError(`maskTargets: gt mask ${gi} has ${m.length} pixels, expected ${maskH}x${maskW}`);
    // mmdet clips the proposals to the mask canvas before cropping.
    const box: [number, number, number, number] = [
      clip(posProposals[4 * k], maskW),
      clip(posProposals[4 * k + 1], maskH),
      clip(posProposals[4 * k + 2], maskW),
      clip(posProposals[4 * k + 3], maskH),
    ];
    const v = roiAlignSingle(m, maskH, maskW, box, [maskSize, maskSize], 1, 0, true);
    for (let i = 0; i < s2; i++) out[k * s2 + i] = v[i] >= 0.5 ? 1 : 0;
  }
  return out;
}
