// Per-category AP (mmdetection's `classwise` table) from an accumulated COCOeval.

import type { COCOeval } from './cocoeval';
import { pairwiseSum, pyFloatRepr, pyRound } from './numeric';

export interface CategoryAP {
  category_id: number;
  name: string;
  /** AP@[.50:.95], area all, maxDets 100; -1 when the category has no usable GT (NaN in mmdetection). */
  AP: number;
  AP50: number;
  AP75: number;
  APs: number;
  APm: number;
  APl: number;
  /** AR@[.50:.95], area all, maxDets 100. */
  AR100: number;
}

/** Per-category metrics, in ascending category id order (the K axis of the eval arrays). */
export function perCategory(E: COCOeval): CategoryAP[] {
  const ev = E.eval;
  if (!ev) throw new Error('perCategory() needs accumulate() first');
  const [T, R, K, A, M] = ev.counts;
  const m = M - 1; // the largest maxDets (mmdetection uses index -1)
  const ap = (k: number, ts: number[], a: number) => {
    const vals: number[] = [];
    for (const t of ts) {
      for (let r = 0; r < R; r++) {
        const v = ev.precision[(((t * R + r) * K + k) * A + a) * M + m];
        if (v > -1) vals.push(v);
      }
    }
    return vals.length ? pairwiseSum(vals) / vals.length : -1;
  };
  const ar = (k: number) => {
    const vals: number[] = [];
    for (let t = 0; t < T; t++) {
      const v = ev.recall[((t * K + k) * A + 0) * M + m];
      if (v > -1) vals.push(v);
    }
    return vals.length ? pairwiseSum(vals) / vals.length : -1;
  };
  const all = Array.from({ length: T }, (_, t) => t);
  const t50 = all.filter((t) => E.params.iouThrs[t] === 0.5);
  const t75 = all.filter((t) => E.params.iouThrs[t] === 0.75);
  const catIds = E.params.useCats ? E.params.catIds : [-1];
  return catIds.map((id, k) => ({
    category_id: id,
    name: String(E.cocoGt.cats.get(id)?.name ?? id),
    AP: ap(k, all, 0),
    AP50: ap(k, t50, 0),
    AP75: ap(k, t75, 0),
    APs: A > 1 ? ap(k, all, 1) : -1,
    APm: A > 2 ? ap(k, all, 2) : -1,
    APl: A > 3 ? ap(k, all, 3) : -1,
    AR100: ar(k),
  }));
}

/** mmdetection's classwise table: values as str(round(x, 3)), 'nan' for no GT, drawn like AsciiTable. */
export function classwiseTable(rows: CategoryAP[]): string {
  const cell = (v: number) => (v === -1 ? 'nan' : pyFloatRepr(pyRound(v, 3)));
  const data = [
    ['category', 'mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'],
    ...rows.map((r) => [r.name, cell(r.AP), cell(r.AP50), cell(r.AP75), cell(r.APs), cell(r.APm), cell(r.APl)]),
  ];
  return asciiTable(data);
}

/** A bordered table with a heading separator (terminaltables' AsciiTable look). */
export function asciiTable(data: string[][]): string {
  const widths = data[0].map((_, c) => Math.max(...data.map((row) => row[c].length)));
  const sep = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const line = (row: string[]) => '|' + row.map((v, c) => ` ${v.padEnd(widths[c])} `).join('|') + '|';
  return [sep, line(data[0]), sep, ...data.slice(1).map(line), sep].join('\n');
}
