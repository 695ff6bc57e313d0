// tools/eval on tiny trained checkpoints (separate processes, as a user runs it): a Mask R-CNN on a
// generated shapes-coco set prints the pycocotools summaries and classwise tables, writes COCO results
// files that tools/coco_eval re-scores to the printed numbers, and draws PNGs; a Semantic FPN on
// shapes-ade prints mmseg's table and metrics, writes its JSON and blended PNGs.
import { autoScale } from '../visualization/draw_detections';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../datasets/io/image';
import { readCheckpoint } from '../checkpoint';

const DET_CFG = 'configs/demo/mask_rcnn_tinyvim_s_fpn_shapes.ts';
const SEG_CFG = 'configs/demo/fpn_tinyvim_s_shapes.ts';

function tool(name: string, args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(`tools/${name}`, args, { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function ok(r: { code: number; out: string; err: string }): string {
  expect(r.code, r.err).toBe(0);
  return r.out;
}

const dir = mkdtempSync(join(tmpdir(), 'eval-cli-'));
const coco = join(dir, 'coco');
const ade = join(dir, 'ade');

// The demo configs with tiny widths (TinyViM 1-1-1-1 of 8-16 channels), 64-px images, 2 iterations.
const detOpts = [
  `data.train.ann_file=${coco}/annotations/instances_train.json`,
  `data.train.img_prefix=${coco}/train/`,
  `data.val.ann_file=${coco}/annotations/instances_val.json`,
  `data.val.img_prefix=${coco}/val/`,
  'data.samples_per_gpu=2',
  'data.workers_per_gpu=0',
  'data.train.pipeline.2.img_scale=[64,64]',
  'data.val.pipeline.1.img_scale=[64,64]',
  'model.backbone.layers=[1,1,1,1]',
  'model.backbone.embed_dims=[8,8,16,16]',
  'model.neck.in_channels=[8,8,16,16]',
  'model.neck.out_channels=8',
  'model.rpn_head.in_channels=8',
  'model.rpn_head.feat_channels=8',
  'model.roi_head.bbox_roi_extractor.out_channels=8',
  'model.roi_head.mask_roi_extractor.out_channels=8',
  'model.roi_head.bbox_head.in_channels=8',
  'model.roi_head.bbox_head.fc_out_channels=16',
  'model.roi_head.mask_head.in_channels=8',
  'model.roi_head.mask_head.conv_out_channels=8',
  'model.roi_head.mask_head.num_convs=1',
  'runner.max_iters=2',
  'checkpoint_config.interval=2',
  'lr_config.warmup_iters=1',
];
const segOpts = [
  `data.train.dataset.data_root=${ade}`,
  `data.val.data_root=${ade}`,
  `data.test.data_root=${ade}`,
  'data.samples_per_gpu=2',
  'data.workers_per_gpu=0',
  'data.train.dataset.pipeline.2.img_scale=[64,64]',
  'data.train.dataset.pipeline.3.crop_size=[64,64]',
  'data.train.dataset.pipeline.7.size=[64,64]',
  'data.val.pipeline.1.img_scale=[64,64]',
  'data.test.pipeline.1.img_scale=[64,64]',
  'model.backbone.layers=[1,1,1,1]',
  'model.backbone.embed_dims=[8,8,16,16]',
  'model.neck.in_channels=[8,8,16,16]',
  'model.neck.out_channels=8',
  'model.decode_head.in_channels=[8,8,8,8]',
  'model.decode_head.channels=8',
  'runner.max_iters=2',
  'checkpoint_config.interval=2',
  'evaluation.interval=100',
];

/** PNG sizes in a folder, by file name. */
function pngSizes(folder: string): Record<string, [number, number]> {
  return Object.fromEntries(
    readdirSync(folder)
      .sort()
      .map((f) => {
        const png = PNG.sync.read(readFileSync(join(folder, f)));
        return [f, [png.width, png.height]];
      }),
  );
}

/** Pixels of a written PNG that differ from the original image by more than 40 in some channel. */
async function changedPixels(pngFile: string, original: string): Promise<number> {
  const png = PNG.sync.read(readFileSync(pngFile));
  const img = await decodeImage(original);
  let n = 0;
  for (let p = 0; p < img.width * img.height; p++) {
    if ([0, 1, 2].some((c) => Math.abs(png.data[4 * p + c] - img.data[3 * p + c]) > 40)) n++;
  }
  return n;
}

beforeAll(() => {
  ok(tool('make_dataset', ['shapes-coco', '--out', coco, '--train', '4', '--val', '3', '--size', '64', '--seed', '1']));
  ok(tool('make_dataset', ['shapes-ade', '--out', ade, '--train', '4', '--val', '3', '--size', '64', '--seed', '3']));
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tools/eval', () => {
  it('Mask R-CNN: COCO summaries, classwise tables, results files tools/coco_eval re-scores, drawn PNGs', async () => {
    const work = join(dir, 'det_work');
    ok(tool('train', ['--config', DET_CFG, '--work-dir', work, '--backend', 'wasm', '--cfg-options', ...detOpts]));
    // Training checkpoints carry the class names (mmdet meta.CLASSES); tools/infer captions with them.
    const classes = readCheckpoint(join(work, 'latest.safetensors')).meta?.CLASSES as string[];
    expect(classes.length).toBeGreaterThan(0);
    const inferDir = join(dir, 'det_infer');
    const firstVal = join(coco, 'val', readdirSync(join(coco, 'val')).sort()[0]);
    const inferOut = ok(tool('infer', ['--config', DET_CFG, '--checkpoint', join(work, 'latest.safetensors'), '--backend', 'wasm', '--out-dir', inferDir, firstVal, '--cfg-options', ...detOpts]));
    expect(inferOut).toContain(`class names: checkpoint meta.CLASSES (${classes.length})`);
    const inferJson = JSON.parse(readFileSync(join(inferDir, readdirSync(inferDir).find((f) => f.endsWith('.json'))!), 'utf8'));
    expect(inferJson.label_names).toEqual(inferJson.labels.map((l: number) => classes[l]));
    const outJson = join(dir, 'det_out', 'results.json');
    const show = join(dir, 'det_show');
    const out = ok(
      tool('eval', ['--config', DET_CFG, '--checkpoint', join(work, 'latest.safetensors'), '--backend', 'wasm', '--out', outJson, '--show-dir', show, '--show-score-thr', '0.05', '--classwise', '--cfg-options', ...detOpts]),
    );
    expect(out).toMatch(/evaluated 3 samples of data\.val/);
    const lines = out.split('\n');
    const printed: Record<string, string[]> = {};
    for (const t of ['bbox', 'segm']) {
      const at = lines.indexOf(`Evaluating ${t}...`);
      expect(at, out).toBeGreaterThanOrEqual(0);
      printed[t] = lines.slice(at + 1, at + 13);
      expect(printed[t][0]).toMatch(/^ Average Precision {2}\(AP\) @\[ IoU=0\.50:0\.95 \| area= {3}all \| maxDets=100 \] = -?\d\.\d{3}$/);
      expect(printed[t][11]).toMatch(/^ Average Recall {5}\(AR\) @\[ IoU=0\.50:0\.95 \| area= large \| maxDets=100 \] = -?\d\.\d{3}$/);
      // The classwise table follows each summary, one row per category of the GT file.
      expect(lines[at + 13]).toMatch(/^\+-+\+/);
      expect(lines[at + 14]).toMatch(/^\| category +\| mAP +\| mAP_50 \| mAP_75 \| mAP_s \| mAP_m \| mAP_l \|$/);
      for (const name of ['rectangle', 'ellipse', 'triangle', 'diamond']) expect(lines.slice(at + 16, at + 20).some((l) => l.startsWith(`| ${name} `))).toBe(true);
    }
    const metric = (k: string) => Number(out.match(new RegExp(`^${k}: (-?\\d\\.\\d{4})$`, 'm'))?.[1]);
    for (const k of ['bbox_mAP', 'bbox_mAP_50', 'segm_mAP', 'segm_mAP_l']) expect(Number.isFinite(metric(k)), k).toBe(true);

    // mmdet's results2json files: {image_id, bbox, score, category_id} and {..., segmentation (RLE, counts a string)}.
    const bboxFile = join(dir, 'det_out', 'results.bbox.json');
    const segmFile = join(dir, 'det_out', 'results.segm.json');
    const bboxRows = JSON.parse(readFileSync(bboxFile, 'utf8'));
    const segmRows = JSON.parse(readFileSync(segmFile, 'utf8'));
    expect(bboxRows.length).toBeGreaterThan(0);
    expect(segmRows).toHaveLength(bboxRows.length);
    expect(Object.keys(bboxRows[0])).toEqual(['image_id', 'bbox', 'score', 'category_id']);
    expect(Object.keys(segmRows[0])).toEqual(['image_id', 'bbox', 'score', 'category_id', 'segmentation']);
    expect(typeof segmRows[0].segmentation.counts).toBe('string');
    const gt = JSON.parse(readFileSync(join(coco, 'annotations', 'instances_val.json'), 'utf8'));
    const catIds = new Set(gt.categories.map((c: { id: number }) => c.id));
    expect(bboxRows.every((r: { category_id: number }) => catIds.has(r.category_id))).toBe(true);

    // tools/coco_eval re-scores each file to the same summary lines and stats as printed.
    for (const [t, file] of [['bbox', bboxFile], ['segm', segmFile]] as const) {
      const statsFile = join(dir, `${t}_stats.json`);
      const r = ok(tool('coco_eval', ['--gt', join(coco, 'annotations', 'instances_val.json'), '--results', file, '--iou-type', t, '--quiet', '--json', statsFile]));
      // The segm file carries bbox (mmdet's _segm2json), so pycocotools takes box areas for the
      // small/medium/large ranges there, while the printed evaluation pops bbox as mmdet does: the
      // all-area lines (AP 0-2, AR 6-8) agree, the area-range ones may not.
      const lines = r.trimEnd().split('\n');
      const same = t === 'bbox' ? [...lines.keys()] : [0, 1, 2, 6, 7, 8];
      expect(lines.length).toBe(printed[t].length);
      for (const i of same) expect(lines[i]).toBe(printed[t][i]);
      const stats: number[] = JSON.parse(readFileSync(statsFile, 'utf8')).stats;
      expect(stats[0].toFixed(4)).toBe(metric(`${t}_mAP`).toFixed(4));
      expect(stats[1].toFixed(4)).toBe(metric(`${t}_mAP_50`).toFixed(4));
    }

    // One PNG per val image at its original size, with detections drawn on it.
    // Detection drawings of small images are enlarged by the integer autoScale (captions stay legible).
    const sizes = Object.fromEntries(
      gt.images.map((im: { file_name: string; width: number; height: number }) => {
        const k = autoScale(im.width, im.height);
        return [im.file_name.replace(/\.[^.]+$/, '.png'), [im.width * k, im.height * k]];
      }),
    );
    expect(pngSizes(show)).toEqual(sizes);
    expect(await changedPixels(join(show, '000001.png'), join(coco, 'val', gt.images[0].file_name))).toBeGreaterThan(0);
  }, 300_000);

  it('Semantic FPN: mmseg table and metrics, metrics JSON, blended PNGs', async () => {
    const work = join(dir, 'seg_work');
    ok(tool('train', ['--config', SEG_CFG, '--work-dir', work, '--backend', 'wasm', '--cfg-options', ...segOpts]));
    const outJson = join(dir, 'seg_out', 'metrics.json');
    const show = join(dir, 'seg_show');
    const out = ok(tool('eval', ['--config', SEG_CFG, '--checkpoint', join(work, 'latest.safetensors'), '--backend', 'wasm', '--out', outJson, '--show-dir', show, '--cfg-options', ...segOpts]));
    expect(out).toMatch(/evaluated 3 samples of data\.test/);
    expect(out).toMatch(/^per class results:$/m);
    expect(out).toMatch(/^\| Class +\| IoU +\| Acc +\|$/m);
    for (const name of ['other', 'rectangle', 'ellipse', 'triangle', 'diamond']) expect(out).toMatch(new RegExp(`^\\| ${name} +\\| \\d+\\.\\d\\d +\\| \\d+\\.\\d\\d +\\|$`, 'm'));
    const saved = JSON.parse(readFileSync(outJson, 'utf8'));
    for (const k of ['aAcc', 'mIoU', 'mAcc']) {
      // Printed with 4 decimals; saved as mmseg returns it (round(x * 100, 2) / 100, a float such as 0.060899999999999996).
      const printed = out.match(new RegExp(`^${k}: (\\d\\.\\d{4})$`, 'm'))?.[1];
      expect(printed).toBe((saved.metrics[k] as number).toFixed(4));
    }
    expect(saved.metrics['IoU.diamond']).toBeGreaterThanOrEqual(0);
    expect(saved.images.map((i: { ori_filename: string }) => i.ori_filename)).toEqual(['000001.jpg', '000002.jpg', '000003.jpg']);
    const sizes = Object.fromEntries(saved.images.map((i: { ori_filename: string; width: number; height: number }) => [i.ori_filename.replace('.jpg', '.png'), [i.width, i.height]]));
    expect(pngSizes(show)).toEqual(sizes);
    // Blended at opacity 0.5 with the class colours: most pixels change visibly.
    const changed = await changedPixels(join(show, '000001.png'), saved.images[0].filename);
    expect(changed).toBeGreaterThan(0.2 * saved.images[0].width * saved.images[0].height);
  }, 300_000);

  it('bad flags end with one error line', () => {
    const r = tool('eval', ['--config', 'test/fixtures/configs/toy_cls.ts', '--checkpoint', join(dir, 'seg_work', 'latest.safetensors'), '--show-score-thr', '2']);
    expect(r.code).not.toBe(0);
    expect(r.err.trim().split('\n')).toEqual(['error: --show-score-thr: expected a number in [0, 1], got 2']);
    expect(existsSync(join(dir, 'nothing'))).toBe(false);
  });
});
