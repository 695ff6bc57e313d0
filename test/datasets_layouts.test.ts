// Both dataset layouts generated in the test, label mapping, the loader (workers, determinism)
// and the bad-input errors of issue 5.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildDataset, type DatasetConfig } from '../datasets/build';
import { CocoDataset } from '../datasets/coco';
import { encodeLabelPng } from '../datasets/io/image';
import { DataLoader } from '../datasets/loader';
import { buildPipeline } from '../datasets/pipeline';
import { ADE_TRAIN_PIPELINE, COCO_TRAIN_PIPELINE } from '../datasets/recipes';
import { writeShapesAde, writeShapesCoco } from '../datasets/synthetic/write';
import { SHAPE_CATEGORIES } from '../datasets/synthetic/shapes';
import type { Batch } from '../datasets/types';
import { DATASETS } from '../core/registry';
import '../datasets/register';

let root: string;
const coco = () => join(root, 'coco');
const ade = () => join(root, 'ade');
const CLASSES = SHAPE_CATEGORIES.map((c) => c.name);

const small = (p: typeof COCO_TRAIN_PIPELINE) =>
  p.map((t) =>
    t.type === 'Resize' ? { ...t, img_scale: t.ratio_range ? ([256, 64] as [number, number]) : ([200, 160] as [number, number]) } : t.type === 'RandomCrop' ? { ...t, crop_size: [64, 64] as [number, number] } : t.type === 'Pad' && t.size ? { ...t, size: [64, 64] as [number, number] } : t,
  );

const cocoCfg = (over: Record<string, unknown> = {}): DatasetConfig =>
  ({ type: 'CocoDataset', data_root: coco(), ann_file: 'annotations/instances_train.json', img_prefix: 'train/', pipeline: small(COCO_TRAIN_PIPELINE), ...over }) as DatasetConfig;
const adeCfg = (over: Record<string, unknown> = {}): DatasetConfig =>
  ({ type: 'ADE20KDataset', data_root: ade(), img_dir: 'images/training', ann_dir: 'annotations/training', classes: CLASSES, pipeline: small(ADE_TRAIN_PIPELINE), ...over }) as DatasetConfig;

function digest(b: Batch): string {
  const h = createHash('sha1');
  h.update(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));
  if (b.kind === 'det') for (const x of [...(b.gt_bboxes ?? []), ...(b.gt_masks ?? []).flat()]) h.update(Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  else if (b.gt_semantic_seg) h.update(b.gt_semantic_seg);
  h.update(JSON.stringify(b.metas));
  return h.digest('hex');
}

async function epochDigests(cfg: DatasetConfig, workers: number, seed: number): Promise<string[]> {
  const loader = new DataLoader(buildDataset(cfg), { batchSize: 2, workers, shuffle: true, seed });
  const out: string[] = [];
  try {
    for await (const b of loader) out.push(digest(b));
  } finally {
    await loader.close();
  }
  return out;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ds-test-'));
  await writeShapesCoco(coco(), { train: 12, val: 4, size: 96, seed: 3 });
  await writeShapesAde(ade(), { train: 8, val: 2, size: 96, seed: 3 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('COCO layout', () => {
  it('reads the generated COCO dataset: labels, crowd as ignore, masks at image size', async () => {
    const ds = buildDataset(cocoCfg()) as CocoDataset;
    expect(ds.classes).toEqual(CLASSES);
    const json = JSON.parse(readFileSync(join(coco(), 'annotations/instances_train.json'), 'utf8'));
    const withAnn = new Set(json.annotations.map((a: { image_id: number }) => a.image_id));
    expect(ds.length).toBe(json.images.filter((im: { id: number }) => withAnn.has(im.id)).length);
    let crowd = 0;
    const pipe = buildPipeline([{ type: 'LoadImageFromFile' }, { type: 'LoadAnnotations', with_mask: true }]);
    for (let i = 0; i < ds.length; i++) {
      const raw = ds.raw(i);
      const s = await pipe.run(raw, 0);
      if (s.kind !== 'det') throw new Error('expected a detection sample');
      const n = raw.instances!.filter((a) => !a.iscrowd).length;
      expect(s.gt_labels!.length).toBe(n);
      expect(s.gt_masks!.length).toBe(n);
      crowd += s.gt_bboxes_ignore!.length / 4;
      for (const m of s.gt_masks!) expect(m.length).toBe(s.shape[0] * s.shape[1]);
      // polygon masks sit inside their boxes
      s.gt_masks!.forEach((m, k) => {
        const [x1, y1, x2, y2] = s.gt_bboxes!.subarray(k * 4, k * 4 + 4);
        for (let p = 0; p < m.length; p++)
          if (m[p]) {
            const x = p % s.shape[1];
            const y = Math.floor(p / s.shape[1]);
            expect(x >= Math.floor(x1) - 1 && x <= x2 && y >= Math.floor(y1) - 1 && y <= y2).toBe(true);
          }
      });
    }
    expect(crowd).toBe(json.annotations.filter((a: { iscrowd: number }) => a.iscrowd).length);
  });

  it('maps category ids to contiguous labels and back', () => {
    const ds = buildDataset(cocoCfg()) as CocoDataset;
    expect(ds.catIds).toEqual([1, 3, 4, 7]);
    for (let l = 0; l < 4; l++) expect(ds.catIdToLabel(ds.labelToCatId(l))).toBe(l);
    expect(ds.catIdToLabel(2)).toBeUndefined();
    const sub = buildDataset(cocoCfg({ classes: ['triangle', 'ellipse'] })) as CocoDataset;
    expect(sub.classes).toEqual(['ellipse', 'triangle']); // file order, as pycocotools getCatIds
    expect(sub.labelToCatId(1)).toBe(4);
  });

  it('filter_empty_gt drops images without annotations for training only', () => {
    const file = join(root, 'coco', 'annotations', 'with_empty.json');
    const j = JSON.parse(readFileSync(join(coco(), 'annotations/instances_train.json'), 'utf8'));
    j.images.push({ id: 999, file_name: '000001.jpg', width: j.images[0].width, height: j.images[0].height });
    writeFileSync(file, JSON.stringify(j));
    const train = buildDataset(cocoCfg({ ann_file: file }));
    const test = buildDataset(cocoCfg({ ann_file: file, test_mode: true }));
    expect(test.length).toBe(j.images.length);
    expect(train.length).toBeLessThan(test.length);
    expect(buildDataset(cocoCfg({ ann_file: file, filter_empty_gt: false, min_size: 0 })).length).toBe(j.images.length);
  });

  it('decodes compressed RLE crowd annotations', async () => {
    const { bitmapToUncompressedRle } = await import('../datasets/masks');
    const { countsToString } = await import('../evaluation/mask');
    const j = JSON.parse(readFileSync(join(coco(), 'annotations/instances_train.json'), 'utf8'));
    const im = j.images[0];
    const m = new Uint8Array(im.height * im.width);
    for (let y = 5; y < 15; y++) for (let x = 3; x < 9; x++) m[y * im.width + x] = 1;
    const unc = bitmapToUncompressedRle(m, im.height, im.width);
    j.annotations = [
      { id: 1, image_id: im.id, category_id: 3, bbox: [3, 5, 6, 10], area: 60, iscrowd: 0, segmentation: { size: unc.size, counts: countsToString(unc.counts) } },
    ];
    const file = join(root, 'coco', 'annotations', 'rle.json');
    writeFileSync(file, JSON.stringify(j));
    const ds = buildDataset(cocoCfg({ ann_file: file }));
    const s = await buildPipeline([{ type: 'LoadImageFromFile' }, { type: 'LoadAnnotations', with_mask: true }]).run(ds.raw(0), 0);
    if (s.kind !== 'det') throw new Error('det expected');
    expect(Array.from(s.gt_labels!)).toEqual([1]);
    expect(Buffer.from(s.gt_masks![0]).equals(Buffer.from(m))).toBe(true);
  });
});

describe('ADE20K layout', () => {
  it('reads images and label maps with reduce_zero_label', async () => {
    const ds = buildDataset(adeCfg({ pipeline: [{ type: 'LoadImageFromFile' }, { type: 'LoadAnnotations', reduce_zero_label: true }] }));
    expect(ds.length).toBe(8);
    const s = await buildPipeline(ds.pipelineCfg as unknown[]).run(ds.raw(0), 0);
    if (s.kind !== 'seg') throw new Error('seg expected');
    const vals = new Set(s.gt_semantic_seg);
    expect(vals.has(255)).toBe(true); // 0 = other -> 255
    for (const v of vals) expect(v === 255 || v < 4).toBe(true);
    // the raw PNG holds 0..4
    const { decodeLabelMap } = await import('../datasets/io/image');
    const raw = decodeLabelMap(ds.raw(0).seg_map!);
    for (let p = 0; p < raw.data.length; p++) expect(s.gt_semantic_seg![p]).toBe(raw.data[p] === 0 ? 255 : raw.data[p] - 1);
    expect(buildDataset(adeCfg({ classes: undefined })).classes.length).toBe(150);
  });

  it("LoadAnnotations.reduce_zero_label defaults to False as mmseg 0.30's, whatever the dataset says (warned once)", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const ds = buildDataset(adeCfg({ classes: undefined, pipeline: [{ type: 'LoadImageFromFile' }, { type: 'LoadAnnotations' }] }));
    const pipe = buildPipeline(ds.pipelineCfg as unknown[]);
    const s = await pipe.run(ds.raw(0), 0);
    await pipe.run(ds.raw(1), 0);
    const { decodeLabelMap } = await import('../datasets/io/image');
    expect(Array.from(s.kind === 'seg' ? s.gt_semantic_seg! : [])).toEqual(Array.from(decodeLabelMap(ds.raw(0).seg_map!).data));
    expect(warn.mock.calls.filter((c) => /LoadAnnotations has no reduce_zero_label/.test(String(c[0]))).length).toBeLessThanOrEqual(1);
    warn.mockRestore();
  });

  it('a generic folder dataset and RepeatDataset work', () => {
    const custom = buildDataset({ type: 'CustomSegDataset', img_dir: join(ade(), 'images/validation'), ann_dir: join(ade(), 'annotations/validation'), classes: ['other', ...CLASSES], pipeline: [] });
    expect(custom.length).toBe(2);
    const rep = buildDataset({ type: 'RepeatDataset', times: 3, dataset: adeCfg() });
    expect(rep.length).toBe(24);
    expect(rep.raw(17).filename).toBe(rep.raw(1).filename);
  });
});

describe('loader', () => {
  it('gives identical batches for 0 and 2 worker threads under a seed, different for another seed', async () => {
    const d0 = await epochDigests(cocoCfg(), 0, 7);
    const d2 = await epochDigests(cocoCfg(), 2, 7);
    expect(d2).toEqual(d0);
    expect(d0.length).toBe(Math.ceil(buildDataset(cocoCfg()).length / 2));
    expect(await epochDigests(cocoCfg(), 0, 8)).not.toEqual(d0);
    const s0 = await epochDigests(adeCfg(), 0, 1);
    expect(await epochDigests(adeCfg(), 2, 1)).toEqual(s0);
  });

  it('produces the documented batch structure through the DATASETS registry', async () => {
    const built = DATASETS.build(cocoCfg() as never, { split: 'train' });
    const loader = built.loader({ batchSize: 2, workers: 0, shuffle: false, seed: 0 });
    const it = loader[Symbol.asyncIterator]();
    const b = (await it.next()).value as Batch;
    if (b.kind !== 'det') throw new Error('det expected');
    expect(b.shape[0]).toBe(2);
    expect(b.shape[1] % 32).toBe(0);
    expect(b.data.length).toBe(b.shape.reduce((a, c) => a * c, 1));
    expect(b.metas[0].img_norm_cfg?.to_rgb).toBe(true);
    b.gt_masks!.forEach((ms, n) => ms.forEach((m) => expect(m.length).toBe(b.metas[n].pad_shape[0] * b.metas[n].pad_shape[1])));
  });
});

describe('bad input errors name the file', () => {
  it('missing annotation file or image folder names the path and the layout', () => {
    expect(() => buildDataset(cocoCfg({ ann_file: 'annotations/nope.json' }))).toThrow(/annotations\/nope\.json: annotation file not found \(expected COCO layout/);
    expect(() => buildDataset(cocoCfg({ img_prefix: 'train2017/' }))).toThrow(/train2017\/?: image folder not found \(expected COCO layout/);
    expect(() => buildDataset(adeCfg({ img_dir: 'images/train' }))).toThrow(/images\/train: folder not found \(expected ADE20K layout/);
  });

  it('missing image, corrupt image, size mismatch and class out of range', async () => {
    const j = JSON.parse(readFileSync(join(coco(), 'annotations/instances_train.json'), 'utf8'));
    j.images[0].file_name = 'missing.jpg';
    const f1 = join(root, 'coco', 'annotations', 'missing.json');
    writeFileSync(f1, JSON.stringify(j));
    const loadOnly = [{ type: 'LoadImageFromFile' }, { type: 'LoadAnnotations', with_mask: true }];
    const ds = buildDataset(cocoCfg({ ann_file: f1, pipeline: loadOnly }));
    const pipe = buildPipeline(loadOnly);
    await expect(pipe.run(ds.raw(0), 0)).rejects.toThrow(/train\/missing\.jpg: image file not found/);

    const bad = join(root, 'coco', 'train', 'corrupt.jpg');
    writeFileSync(bad, Buffer.from('not a jpeg at all'));
    j.images[0].file_name = 'corrupt.jpg';
    writeFileSync(f1, JSON.stringify(j));
    const ds2 = buildDataset(cocoCfg({ ann_file: f1, pipeline: loadOnly }));
    await expect(pipe.run(ds2.raw(0), 0)).rejects.toThrow(/corrupt\.jpg: corrupt or unsupported image/);
    // through worker threads the error keeps the file name; skipBad logs and counts instead
    const l = new DataLoader(ds2, { batchSize: 1, workers: 1, shuffle: false, seed: 0 });
    await expect((async () => { for await (const _ of l) void _; })()).rejects.toThrow(/corrupt\.jpg: corrupt/);
    await l.close();
    const logs: string[] = [];
    const l2 = new DataLoader(ds2, { batchSize: 2, workers: 0, shuffle: false, seed: 0, skipBad: true, log: (s) => logs.push(s) });
    let n = 0;
    for await (const b of l2) n += b.shape[0];
    expect(n).toBe(ds2.length - 1);
    expect(l2.skipped).toBe(1);
    expect(logs.at(-1)).toMatch(/skipped 1 bad sample this epoch/);

    j.annotations[0].category_id = 42;
    writeFileSync(f1, JSON.stringify(j));
    expect(() => buildDataset(cocoCfg({ ann_file: f1 }))).toThrow(/missing\.json: annotation \d+ has category_id 42/);

    // label map of the wrong size / with a class id out of range
    const segPipe = buildPipeline([{ type: 'LoadImageFromFile' }, { type: 'LoadAnnotations', reduce_zero_label: true }]);
    const ads = buildDataset(adeCfg());
    const png = ads.raw(1).seg_map!;
    writeFileSync(png, encodeLabelPng({ data: new Uint8Array(12), width: 4, height: 3 }));
    await expect(segPipe.run(ads.raw(1), 0)).rejects.toThrow(new RegExp(`${png.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: label map is 3x4 but its image is`));
    const im = (await import('sharp')).default;
    const meta = await im(ads.raw(2).filename).metadata();
    const png2 = ads.raw(2).seg_map!;
    writeFileSync(png2, encodeLabelPng({ data: new Uint8Array(meta.width! * meta.height!).fill(9), width: meta.width!, height: meta.height! }));
    await expect(segPipe.run(ads.raw(2), 0)).rejects.toThrow(/000003\.png: class id 8 \(after reduce_zero_label\) out of range: 4 classes/);
  });

  it('dataset config errors name the dataset type and field', () => {
    expect(() => buildDataset(cocoCfg({ filter_empty: true }))).toThrow(/dataset\.CocoDataset\.filter_empty: unknown key 'filter_empty'; nearest valid names: filter_empty_gt/);
    expect(() => buildDataset({ type: 'RepeatDataset', times: 0, dataset: adeCfg() } as DatasetConfig)).toThrow(/RepeatDataset\.times: expected an integer >= 1, got number 0/);
  });
});
