// Compares two detectors' results on the same image (e.g. two backends): the same kept set (each
// detection of `a` pairs with one of `b` with the same label, box within `boxTol` px, score within
// `scoreTol`), and, per pair, the thresholded masks equal up to `maskPixels` differing pixels.
import type { DetectionResult } from '../../structures/results';

export interface DetDiff {
  /** Problems found; empty when the results agree. */
  problems: string[];
  maxBoxDiff: number;
  maxScoreDiff: number;
  maxMaskPixels: number;
  /** pairs[i]: the index in `b` paired with detection i of `a`, -1 when none is within the tolerances. */
  pairs: number[];
}

/**
 * Pairs every detection of `a` greedily (in a's order) with the unused detection of `b` of the same
 * label whose box is nearest (max coordinate difference, px), and lists what disagrees. Masks are
 * compared only when both sides carry bitmaps. Order-insensitive on purpose: near-equal scores may
 * swap between backends.
 */
export function compareDetections(a: DetectionResult, b: DetectionResult, opts: { boxTol: number; scoreTol: number; maskPixels?: number }): DetDiff {
  const out: DetDiff = { problems: [], maxBoxDiff: 0, maxScoreDiff: 0, maxMaskPixels: 0, pairs: [] };
  const n = a.scores.length;
  if (b.scores.length !== n) out.problems.push(`${n} vs ${b.scores.length} detections`);
  const used = new Uint8Array(b.scores.length);
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let j = 0; j < b.scores.length; j++) {
      if (used[j] || b.labels[j] !== a.labels[i]) continue;
      let d = 0;
      for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(a.bboxes[i * 4 + c] - b.bboxes[j * 4 + c]));
      if (d < bestD) [best, bestD] = [j, d];
    }
    if (best < 0 || bestD > opts.boxTol) {
      out.pairs.push(-1);
      out.problems.push(`detection ${i} (label ${a.labels[i]}, score ${a.scores[i].toFixed(4)}) has no partner within ${opts.boxTol} px`);
      continue;
    }
    used[best] = 1;
    out.pairs.push(best);
    out.maxBoxDiff = Math.max(out.maxBoxDiff, bestD);
    const ds = Math.abs(a.scores[i] - b.scores[best]);
    out.maxScoreDiff = Math.max(out.maxScoreDiff, ds);
    if (ds > opts.scoreTol) out.problems.push(`detection ${i}: score ${a.scores[i]} vs ${b.scores[best]}`);
    const ma = a.masks?.[i];
    const mb = b.masks?.[best];
    if (!!ma !== !!mb) out.problems.push(`detection ${i}: mask on one side only`);
    if (ma && mb) {
      let px = 0;
      for (let p = 0; p < ma.length; p++) if (ma[p] !== mb[p]) px++;
      out.maxMaskPixels = Math.max(out.maxMaskPixels, px);
      if (px > (opts.maskPixels ?? 0)) out.problems.push(`detection ${i}: masks differ at ${px} pixels`);
    }
  }
  return out;
}
