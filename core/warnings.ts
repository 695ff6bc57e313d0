// One warning per kind of bad input, with how many items have it and the first one, instead of a
// line per item: a COCO file with thousands of odd polygons should not bury the log. Used by the
// COCO ground-truth/results readers (evaluation/coco.ts) and the COCO training dataset
// (datasets/coco.ts), which both follow the reference (pycocotools, mmdetection) and only report.

/** Where warning lines go (default console.warn, i.e. stderr, so stdout keeps only results). */
export type WarningSink = (line: string) => void;

interface Kind {
  count: number;
  first: string;
  describe: (count: number) => string;
  consequence: string;
}

/**
 * Collects offending items per kind while a file is read; `flush` then writes one line per kind:
 * `warning: <file>: <describe(count)> (first: <first id>); <consequence>`, kinds in the order they
 * were first seen. Example: `warning: instances_val.json: 3 annotations have polygons with an odd
 * number of coordinates (first: annotation id 17); pycocotools evaluates them as given`.
 */
export class WarningTally {
  private readonly kinds = new Map<string, Kind>();

  constructor(readonly file: string) {}

  /**
   * Counts one offending item of `kind`. `firstId` names the item (e.g. "annotation id 17") and is kept
   * for the first item only; `describe(count)` words the kind for a count ("3 annotations have ...").
   */
  add(kind: string, firstId: string, describe: (count: number) => string, consequence: string): void {
    const k = this.kinds.get(kind);
    if (k) k.count++;
    else this.kinds.set(kind, { count: 1, first: firstId, describe, consequence });
  }

  /** Items counted so far of one kind (0 when none). */
  count(kind: string): number {
    return this.kinds.get(kind)?.count ?? 0;
  }

  /** Items counted per kind. */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.kinds].map(([kind, k]) => [kind, k.count]));
  }

  /** The lines, one per kind, without writing them. */
  lines(): string[] {
    return [...this.kinds.values()].map((k) => `warning: ${this.file}: ${k.describe(k.count)} (first: ${k.first}); ${k.consequence}`);
  }

  /** Writes one line per kind to `sink` and returns the lines (call once, when the file is read). */
  flush(sink: WarningSink = console.warn): string[] {
    const out = this.lines();
    for (const l of out) sink(l);
    return out;
  }
}

/** "1 annotation has" / "3 annotations have": the count with the noun and verb agreeing with it. */
export function countOf(n: number, singular: string, plural: string): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
