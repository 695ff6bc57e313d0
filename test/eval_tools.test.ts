// The coco_eval and seg_eval CLIs end to end: output, JSON files and one-line errors on bad input.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';

const REPO = join(__dirname, '..');
const COCO_CASES = join(REPO, 'test', 'fixtures', 'coco_eval', 'cases');
const MIOU_CASES = join(REPO, 'test', 'fixtures', 'miou', 'cases');
const tmp = mkdtempSync(join(tmpdir(), 'eval-tools-'));

function run(tool: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'tools', `${tool}.ts`), ...args], { cwd: REPO, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The error output must be one line naming what is wrong, with no stack trace. */
function expectOneLineError(r: { code: number | null; stderr: string }, ...parts: string[]) {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  const last = lines[lines.length - 1];
  expect(last).toMatch(/error: /);
  for (const p of parts) expect(last).toContain(p);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('tools/coco_eval', () => {
  const c = join(COCO_CASES, 's02_basic_two_cats');
  const expected = JSON.parse(readFileSync(join(c, 'expected.json'), 'utf8'));

  it('prints the pycocotools summary and writes stats and per-category JSON', () => {
    const out = join(tmp, 'coco.json');
    const r = run('coco_eval', ['--gt', join(c, 'gt.json'), '--results', join(c, 'results_segm.json'), '--iou-type', 'segm', '--json', out, '--classwise']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(expected.segm.summary_text + '\n')).toBe(true);
    expect(r.stdout).toContain('| category | mAP');
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.stats).toEqual(expected.segm.stats);
    expect(j.per_category.map((p: { category_id: number }) => p.category_id)).toEqual(Object.keys(expected.segm.per_category).map(Number));
    expect(j.per_category[0].AP).toBe(expected.segm.per_category[String(j.per_category[0].category_id)].AP);
  });

  it('the shell shim runs the same tool', () => {
    const stdout = execFileSync(join(REPO, 'tools', 'coco_eval'), ['--gt', join(c, 'gt.json'), '--results', join(c, 'results_bbox.json'), '--iou-type', 'bbox', '--quiet'], {
      encoding: 'utf8',
    });
    expect(stdout).toBe(expected.bbox.summary_text + '\n');
  });

  it('rejects result image ids that are not in the GT with one line', () => {
    const s07 = join(COCO_CASES, 's07_result_image_not_in_gt');
    const r = run('coco_eval', ['--gt', join(s07, 'gt.json'), '--results', join(s07, 'results_bbox.json'), '--iou-type', 'bbox']);
    expectOneLineError(r, 'image_id 999', 'results_bbox.json');
    expect(r.stdout).toBe('');
  });

  it('names the file and the position of malformed JSON', () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '[\n  {"image_id": 1, "category_id": 1,\n   "bbox": [1, 2, 3 4], "score": 0.5}\n]\n');
    const r = run('coco_eval', ['--gt', join(c, 'gt.json'), '--results', bad, '--iou-type', 'bbox']);
    expectOneLineError(r, bad, 'line 3', 'column 21');
  });

  it('names the annotation id and the missing field', () => {
    const gt = JSON.parse(readFileSync(join(c, 'gt.json'), 'utf8'));
    const victim = gt.annotations[1];
    delete victim.area;
    const path = join(tmp, 'gt_missing_area.json');
    writeFileSync(path, JSON.stringify(gt));
    const r = run('coco_eval', ['--gt', path, '--results', join(c, 'results_bbox.json'), '--iou-type', 'bbox']);
    expectOneLineError(r, path, `annotation id ${victim.id}`, "'area'");

    const gt2 = JSON.parse(readFileSync(join(c, 'gt.json'), 'utf8'));
    delete gt2.annotations[0].segmentation;
    const path2 = join(tmp, 'gt_missing_segm.json');
    writeFileSync(path2, JSON.stringify(gt2));
    const r2 = run('coco_eval', ['--gt', path2, '--results', join(c, 'results_segm.json'), '--iou-type', 'segm']);
    expectOneLineError(r2, `annotation id ${gt2.annotations[0].id}`, "'segmentation'");
  });

  it('rejects a result row without a score', () => {
    const rows = JSON.parse(readFileSync(join(c, 'results_bbox.json'), 'utf8'));
    delete rows[2].score;
    const path = join(tmp, 'res_no_score.json');
    writeFileSync(path, JSON.stringify(rows));
    const r = run('coco_eval', ['--gt', join(c, 'gt.json'), '--results', path, '--iou-type', 'bbox']);
    expectOneLineError(r, 'result #2', "'score'");
  });
});

describe('tools/seg_eval', () => {
  const m = join(MIOU_CASES, 'm02_absent_classes');
  const expected = JSON.parse(readFileSync(join(m, 'expected.json'), 'utf8'));

  it('writes aAcc/mIoU/mAcc fractions and per-class IoU/Acc with null for NaN', () => {
    const out = join(tmp, 'seg.json');
    const r = run('seg_eval', ['--gt-dir', join(m, 'gt'), '--pred-dir', join(m, 'pred'), '--num-classes', String(expected.num_classes), '--json', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('mIoU');
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j).toEqual({ aAcc: expected.aAcc, mIoU: expected.mIoU, mAcc: expected.mAcc, IoU: expected.IoU, Acc: expected.Acc });
  });

  it('honours --reduce-zero-label', () => {
    const z = join(MIOU_CASES, 'm03_reduce_zero_label');
    const e = JSON.parse(readFileSync(join(z, 'expected.json'), 'utf8'));
    const out = join(tmp, 'seg_rzl.json');
    const r = run('seg_eval', ['--gt-dir', join(z, 'gt'), '--pred-dir', join(z, 'pred'), '--num-classes', String(e.num_classes), '--reduce-zero-label', '--json', out]);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).mIoU).toBe(e.mIoU);
  });

  it('names both files when PNG sizes differ', () => {
    const gtDir = join(tmp, 'gt');
    const predDir = join(tmp, 'pred');
    mkdirSync(gtDir, { recursive: true });
    mkdirSync(predDir, { recursive: true });
    const name = expected.images[0].gt.split('/').pop();
    copyFileSync(join(m, expected.images[0].gt), join(gtDir, name));
    const png = new PNG({ width: 5, height: 4, colorType: 0, inputColorType: 0, inputHasAlpha: false } as never);
    png.data = Buffer.alloc(5 * 4);
    writeFileSync(join(predDir, name), PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false } as never));
    const r = run('seg_eval', ['--gt-dir', gtDir, '--pred-dir', predDir, '--num-classes', '6']);
    expectOneLineError(r, join(gtDir, name), join(predDir, name), '5x4');
  });
});
