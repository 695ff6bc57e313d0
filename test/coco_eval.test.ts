// COCOeval against pycocotools' recorded outcomes (every case under test/fixtures/coco_eval/cases).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COCO, COCOeval, ResultsMismatchError, evaluateCocoResults, pairwiseSum, perCategory } from '../evaluation';

const ROOT = join(__dirname, 'fixtures', 'coco_eval');
const index = JSON.parse(readFileSync(join(ROOT, 'index.json'), 'utf8'));
const caseNames: string[] = index.cases.map((c: { case: string }) => c.case);

function load(name: string, file: string): unknown {
  return JSON.parse(readFileSync(join(ROOT, 'cases', name, file), 'utf8'));
}

describe('coco_eval fixtures', () => {
  it('index lists every case directory', () => {
    expect(caseNames.length).toBeGreaterThan(0);
    expect([...caseNames].sort()).toEqual(readdirSync(join(ROOT, 'cases')).sort());
  });

  for (const name of caseNames) {
    for (const iouType of ['bbox', 'segm'] as const) {
      it(`${name} ${iouType}`, () => {
        const expected = load(name, 'expected.json') as Record<string, any>;
        const exp = expected[iouType];
        const gt = new COCO(join(ROOT, 'cases', name, 'gt.json'));
        const results = load(name, `results_${iouType}.json`) as object[];
        if (exp.error && !exp.stats) {
          expect(exp.error.type).toBe('AssertionError');
          expect(() => gt.loadRes(results)).toThrow(ResultsMismatchError);
          return;
        }
        const dt = gt.loadRes(results);
        const E = new COCOeval(gt, dt, iouType);
        E.evaluate();
        E.accumulate();
        const text = E.summarize();
        expect(E.stats.length).toBe(12);
        E.stats.forEach((s, i) => expect(Math.abs(s - exp.stats[i]), `stat ${i}`).toBeLessThanOrEqual(1e-12));
        // numpy's pairwise mean is reproduced, so the stats are bit-identical.
        expect(E.stats).toEqual(exp.stats);
        expect(text).toBe(exp.summary_text);
        expect(E.numEvalImgs()).toBe(exp.num_eval_imgs_nonempty);
        const ev = E.eval!;
        const [T, , K, A, M] = ev.counts;
        const recall = Array.from({ length: T }, (_, t) => Array.from({ length: K }, (_, k) => ev.recall[((t * K + k) * A + 0) * M + (M - 1)]));
        expect(recall).toEqual(exp.recall_all_area_all_maxdet100);
        if (exp.precision_area_all_maxdet100) {
          const R = ev.counts[1];
          const prec = Array.from({ length: T }, (_, t) =>
            Array.from({ length: R }, (_, r) => Array.from({ length: K }, (_, k) => ev.precision[(((t * R + r) * K + k) * A + 0) * M + (M - 1)])),
          );
          expect(prec).toEqual(exp.precision_area_all_maxdet100);
        }
        const per = perCategory(E);
        for (const [catId, v] of Object.entries(exp.per_category as Record<string, any>)) {
          const row = per.find((r) => r.category_id === Number(catId))!;
          expect(row, `category ${catId}`).toBeDefined();
          expect({ AP: row.AP, AP50: row.AP50, AP75: row.AP75, AR100: row.AR100 }).toEqual(v);
        }
        // The one-call helper gives the same numbers (on a fresh copy: loadRes mutates the rows).
        const again = evaluateCocoResults(new COCO(join(ROOT, 'cases', name, 'gt.json')), load(name, `results_${iouType}.json`) as object[], iouType);
        expect(again.stats).toEqual(exp.stats);
        expect(again.summary).toBe(exp.summary_text);
      });
    }
  }

  // The 12 stats as pycocotools' summarize selects them: [ap, iouThr, areaRng, maxDets].
  const STAT_SEL: [boolean, number | null, string, number][] = [
    [true, null, 'all', 100], [true, 0.5, 'all', 100], [true, 0.75, 'all', 100],
    [true, null, 'small', 100], [true, null, 'medium', 100], [true, null, 'large', 100],
    [false, null, 'all', 1], [false, null, 'all', 10], [false, null, 'all', 100],
    [false, null, 'small', 100], [false, null, 'medium', 100], [false, null, 'large', 100],
  ];
  /** The values (> -1) our accumulate() produced for stat i, in numpy's C order (T, R, K, A, M). */
  function statValues(E: COCOeval, i: number): number[] {
    const [ap, thr, area, md] = STAT_SEL[i];
    const ev = E.eval!;
    const [T, R, K, A, M] = ev.counts;
    const a = E.params.areaRngLbl.indexOf(area);
    const m = E.params.maxDets.indexOf(md);
    const vals: number[] = [];
    for (let t = 0; t < T; t++) {
      if (thr !== null && E.params.iouThrs[t] !== thr) continue;
      for (let r = 0; r < (ap ? R : 1); r++)
        for (let k = 0; k < K; k++) {
          const v = ap ? ev.precision[(((t * R + r) * K + k) * A + a) * M + m] : ev.recall[((t * K + k) * A + a) * M + m];
          if (v > -1) vals.push(v);
        }
    }
    return vals;
  }

  it('where a naive left-to-right mean differs, our stats still equal numpy\'s (pairwise sum)', () => {
    let checked = 0;
    for (const name of caseNames) {
      const expected = load(name, 'expected.json') as Record<string, any>;
      for (const iouType of ['bbox', 'segm'] as const) {
        const flagged: number[] = expected[iouType].stats_where_naive_sequential_mean_differs ?? [];
        if (!flagged.length) continue;
        const gt = new COCO(join(ROOT, 'cases', name, 'gt.json'));
        const E = new COCOeval(gt, gt.loadRes(load(name, `results_${iouType}.json`) as object[]), iouType);
        E.evaluate();
        E.accumulate();
        E.summarize();
        for (const i of flagged) {
          const vals = statValues(E, i);
          const naive = vals.reduce((s, v) => s + v, 0) / vals.length;
          expect(naive, `${name} ${iouType} stat ${i}: the naive mean must differ (fixture flag)`).not.toBe(expected[iouType].stats[i]);
          expect(pairwiseSum(vals) / vals.length, `${name} ${iouType} stat ${i}`).toBe(expected[iouType].stats[i]);
          expect(E.stats[i], `${name} ${iouType} stat ${i}`).toBe(expected[iouType].stats[i]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});

describe('COCO API', () => {
  const gtPath = join(ROOT, 'cases', 's05_missing_pieces', 'gt.json');
  it('getImgIds/getCatIds/getAnnIds filters follow pycocotools', () => {
    const coco = new COCO(gtPath);
    const ds = coco.dataset;
    expect(coco.getImgIds()).toEqual(ds.images!.map((i) => i.id));
    expect(coco.getCatIds()).toEqual(ds.categories!.map((c) => c.id));
    const cat = ds.categories![0];
    expect(coco.getCatIds({ catNms: [cat.name] })).toEqual([cat.id]);
    expect(coco.getAnnIds()).toEqual(ds.annotations!.map((a) => a.id));
    const img = ds.annotations![0].image_id;
    expect(coco.getAnnIds({ imgIds: [img] })).toEqual(ds.annotations!.filter((a) => a.image_id === img).map((a) => a.id));
    const withCat = new Set(ds.annotations!.filter((a) => a.category_id === cat.id).map((a) => a.image_id));
    expect(new Set(coco.getImgIds({ catIds: [cat.id] }))).toEqual(withCat);
    // areaRng bounds are exclusive in getAnnIds.
    const a0 = ds.annotations![0];
    expect(coco.getAnnIds({ areaRng: [a0.area!, 1e10] })).not.toContain(a0.id);
    expect(coco.loadAnns(a0.id)[0]).toBe(a0);
    expect(coco.loadImgs(img)[0].id).toBe(img);
  });

  it('annToMask matches annToRLE and loadRes fills area/bbox/id', () => {
    const coco = new COCO(join(ROOT, 'cases', 's02_basic_two_cats', 'gt.json'));
    const ann = coco.dataset.annotations![0];
    const img = coco.imgs.get(ann.image_id)!;
    const m = coco.annToMask(ann);
    expect(m.length).toBe(img.height * img.width);
    expect(m.reduce((s, v) => s + v, 0)).toBeGreaterThan(0);
    const res = coco.loadRes([{ image_id: img.id, category_id: ann.category_id, bbox: [1, 2, 3, 4], score: 0.5 }]);
    expect(res.loadAnns(1)[0]).toMatchObject({ id: 1, area: 12, iscrowd: 0 });
    expect(() => coco.loadRes([{ image_id: 123456789, category_id: 1, bbox: [0, 0, 1, 1], score: 1 }])).toThrow(/image_id 123456789/);
  });
});

describe('JSON reading', () => {
  it('the chunked reader for very large files gives the same data', async () => {
    const { readJsonFile } = await import('../evaluation');
    const gtPath = join(ROOT, 'cases', 's04_crowd', 'gt.json');
    const resPath = join(ROOT, 'cases', 's04_crowd', 'results_segm.json');
    expect(readJsonFile(gtPath, 0)).toEqual(JSON.parse(readFileSync(gtPath, 'utf8')));
    expect(readJsonFile(resPath, 0)).toEqual(JSON.parse(readFileSync(resPath, 'utf8')));
  });

  it('errors name the file and a position, in both readers', async () => {
    const { readJsonFile } = await import('../evaluation');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const p = join(mkdtempSync(join(tmpdir(), 'json-')), 'bad.json');
    writeFileSync(p, '{"images": [{"id": 1}, {"id": 2,}], "annotations": []}');
    expect(() => readJsonFile(p)).toThrow(new RegExp(`${p}: malformed JSON at line 1, column 33`));
    expect(() => readJsonFile(p, 0)).toThrow(new RegExp(`${p}: malformed JSON at byte offset 32`));
  });
});
