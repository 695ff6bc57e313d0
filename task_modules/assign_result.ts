// mmdet AssignResult: which gt each candidate box is assigned to.

export interface AssignResult {
  numGts: number;
  /** Per box: 0 = negative, -1 = ignored (neither), k + 1 = assigned to gt k. */
  gtInds: Int32Array;
  /** Per box: its largest IoU with any gt (0 when there are no gts). */
  maxOverlaps: Float32Array;
  /** Per box: the assigned gt's label, -1 where the box is not positive (empty when no labels were given). */
  labels: Int32Array;
}

/** mmdet AssignResult.add_gt_: the gts become boxes 0..G-1, each assigned to itself with overlap 1. */
export function withGtAsProposals(a: AssignResult, gtLabels: Int32Array): AssignResult {
  const g = gtLabels.length;
  const n = a.gtInds.length;
  const gtInds = new Int32Array(g + n);
  for (let i = 0; i < g; i++) gtInds[i] = i + 1;
  gtInds.set(a.gtInds, g);
  const maxOverlaps = new Float32Array(g + n);
  maxOverlaps.fill(1, 0, g);
  maxOverlaps.set(a.maxOverlaps, g);
  let labels = a.labels;
  if (labels.length === n && n + g > 0) {
    labels = new Int32Array(g + n);
    labels.set(gtLabels, 0);
    labels.set(a.labels, g);
  }
  return { numGts: a.numGts, gtInds, maxOverlaps, labels };
}
