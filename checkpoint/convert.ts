// Converting official PyTorch weights (TinyViM classification .pth, mmdet/mmseg detector and
// segmentor checkpoints) to our safetensors, with a report of every key renamed or dropped.
// Our modules use the official state_dict names (backbones/tinyvim follows the official TinyViM
// repository's module names; necks/heads follow mmdet 2.x / mmseg 0.x), so conversion is about
// wrappers and prefixes, not per-layer renaming:
//   - DataParallel/DDP `module.` prefixes are stripped;
//   - a classification checkpoint loaded into a detector/segmentor gains the `backbone.` prefix;
//   - keys the target model does not have (the classifier `head.`/`dist_head.`, EMA copies,
//     mmdet's test-only buffers) are dropped, as are shape mismatches; both are reported.
import type { RawTensor } from './formats/safetensors';

export interface ConvertReport {
  renamed: [string, string][];
  dropped: [string, string][];
  /** Target keys no input tensor provides. */
  missing: string[];
}

/**
 * Maps `input` (name -> tensor) onto `target` (name -> shape) when given, else only strips
 * wrappers. Returns the converted tensors in target order (input order without a target).
 */
export function convertStateDict(input: Map<string, RawTensor>, target?: Map<string, readonly number[]>): { tensors: Map<string, RawTensor>; report: ConvertReport } {
  const report: ConvertReport = { renamed: [], dropped: [], missing: [] };
  let entries = [...input.entries()];
  if (entries.length && entries.every(([k]) => k.startsWith('module.'))) {
    entries = entries.map(([k, v]) => {
      report.renamed.push([k, k.slice(7)]);
      return [k.slice(7), v];
    });
  }
  if (!target) return { tensors: new Map(entries), report };
  const targetKeys = [...target.keys()];
  const needsBackbonePrefix = targetKeys.some((k) => k.startsWith('backbone.')) && !entries.some(([k]) => k.startsWith('backbone.'));
  const out = new Map<string, RawTensor>();
  for (const [k0, v] of entries) {
    let k = k0;
    if (needsBackbonePrefix && target.has(`backbone.${k0}`)) {
      k = `backbone.${k0}`;
      const prev = report.renamed.findIndex(([, to]) => to === k0);
      if (prev >= 0) report.renamed[prev][1] = k;
      else report.renamed.push([k0, k]);
    }
    const shape = target.get(k);
    if (!shape) {
      report.dropped.push([k0, 'not in the model']);
      continue;
    }
    if (shape.length !== v.shape.length || shape.some((d, i) => d !== v.shape[i])) {
      report.dropped.push([k0, `shape [${v.shape}] but the model has [${shape}]`]);
      continue;
    }
    out.set(k, v);
  }
  report.missing = targetKeys.filter((k) => !out.has(k));
  // Renames of dropped keys are not renames.
  const droppedSet = new Set(report.dropped.map(([k]) => k));
  report.renamed = report.renamed.filter(([from]) => !droppedSet.has(from) && !droppedSet.has(from.replace(/^module\./, '')));
  return { tensors: new Map(targetKeys.filter((k) => out.has(k)).map((k) => [k, out.get(k)!])), report };
}

/** The report as printed: one line per renamed/dropped/missing key, then totals. */
export function formatConvertReport(r: ConvertReport, kept: number): string {
  return [
    ...r.renamed.map(([a, b]) => `renamed  ${a} -> ${b}`),
    ...r.dropped.map(([k, why]) => `dropped  ${k} (${why})`),
    ...r.missing.map((k) => `missing  ${k} (not in the input: keeps its init)`),
    `${kept} tensors written, ${r.renamed.length} renamed, ${r.dropped.length} dropped, ${r.missing.length} missing`,
  ].join('\n');
}
