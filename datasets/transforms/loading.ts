/** LoadImageFromFile and LoadAnnotations (detection boxes/labels/masks, or a semantic label map). */
import { decodeImage, decodeLabelMap } from '#platform/image';
import { type Infer, s } from '../../core/config_schema';
import { diskClient } from '../config_fields';
import { DatasetError } from '../errors';
import { segmentationToBitmap } from '../masks';
import type { PipelineState } from '../types';
import type { Transform } from './base';

/**
 * LoadImageFromFile's fields. mmdet/mmseg signature fields are accepted with the one mode we
 * reproduce (mmcv's cv2 'color' decode); any other mode is refused by name.
 */
export const loadImageFromFileSchema = s.object({
  to_float32: s.boolean().optional().describedAs("mmcv's to_float32: only changes the dtype; we keep uint8 until Normalize either way"),
  color_type: s.literal('color').optional(),
  channel_order: s.literal('bgr').optional(),
  imdecode_backend: s.literal('cv2').optional(),
  file_client_args: diskClient().optional(),
});
export type LoadImageFromFileConfig = { type: 'LoadImageFromFile' } & Infer<typeof loadImageFromFileSchema>;

export class LoadImageFromFile implements Transform {
  readonly type = 'LoadImageFromFile';
  constructor(readonly cfg: LoadImageFromFileConfig) {}

  async apply(s: PipelineState): Promise<PipelineState> {
    const file = s.raw.filename;
    const im = await decodeImage(file);
    if (s.raw.height !== undefined && s.raw.width !== undefined && (im.height !== s.raw.height || im.width !== s.raw.width))
      throw new DatasetError(
        file,
        `image is ${im.height}x${im.width} (HxW) but the annotation says ${s.raw.height}x${s.raw.width}`,
      );
    s.img = im.data;
    s.height = im.height;
    s.width = im.width;
    s.channel_order = 'rgb';
    const shape: [number, number, number] = [im.height, im.width, 3];
    s.meta.ori_shape = [...shape];
    s.meta.img_shape = [...shape];
    s.meta.pad_shape = [...shape];
    return s;
  }
}

/**
 * LoadAnnotations' fields. mmdet/mmseg signature fields are accepted with the one mode we reproduce
 * (mmseg's pillow label read, mmdet's bitmap masks); any other mode is refused by name.
 */
export const loadAnnotationsSchema = s.object({
  with_bbox: s.boolean().optional().describedAs('detection, default true'),
  with_label: s.boolean().optional().describedAs('detection, default true'),
  with_mask: s.boolean().optional().describedAs('detection, default false (mmdet)'),
  with_seg: s.boolean().optional().describedAs('load the semantic label map; default true for segmentation datasets'),
  reduce_zero_label: s
    .boolean()
    .optional()
    .describedAs("0 -> 255, k -> k-1 (ADE20K). Default false, as mmseg 0.30 (the dataset's flag is for evaluation)"),
  poly2mask: s.literal(true).optional(),
  denorm_bbox: s.literal(false).optional(),
  imdecode_backend: s.literal('pillow').optional(),
  file_client_args: diskClient().optional(),
});
export type LoadAnnotationsConfig = { type: 'LoadAnnotations' } & Infer<typeof loadAnnotationsSchema>;

let warnedReduce = false;

export class LoadAnnotations implements Transform {
  readonly type = 'LoadAnnotations';
  constructor(readonly cfg: LoadAnnotationsConfig) {}

  apply(s: PipelineState): PipelineState {
    if (s.raw.task === 'seg') return this.loadSeg(s);
    return this.loadDet(s);
  }

  private loadDet(s: PipelineState): PipelineState {
    const inst = s.raw.instances ?? [];
    const normal = inst.filter((a) => !a.iscrowd);
    const crowd = inst.filter((a) => a.iscrowd);
    if (this.cfg.with_bbox !== false) {
      s.gt_bboxes = new Float32Array(normal.flatMap((a) => a.bbox));
      s.gt_bboxes_ignore = new Float32Array(crowd.flatMap((a) => a.bbox));
    }
    if (this.cfg.with_label !== false) s.gt_labels = Int32Array.from(normal.map((a) => a.label));
    if (this.cfg.with_mask) {
      const h = s.raw.height ?? s.height;
      const w = s.raw.width ?? s.width;
      if (!h || !w) throw new DatasetError(s.raw.filename, 'mask decoding needs the image size (load the image first)');
      s.gt_masks = normal.map((a) => {
        if (!a.segmentation) throw new DatasetError(s.raw.filename, 'annotation has no segmentation but with_mask is set');
        try {
          return segmentationToBitmap(a.segmentation, h, w);
        } catch (e) {
          throw new DatasetError(s.raw.filename, `bad segmentation (${(e as Error).message})`);
        }
      });
    }
    return s;
  }

  private loadSeg(s: PipelineState): PipelineState {
    if (this.cfg.with_seg === false) return s;
    const file = s.raw.seg_map;
    if (!file) throw new DatasetError(s.raw.filename, 'no label map listed for this image');
    const map = decodeLabelMap(file);
    if (s.img !== undefined && (map.height !== s.height || map.width !== s.width))
      throw new DatasetError(file, `label map is ${map.height}x${map.width} but its image is ${s.height}x${s.width} (HxW)`);
    const seg = map.data;
    // mmseg 0.30: LoadAnnotations(reduce_zero_label=False) acts on its own flag only; the dataset's flag
    // is for evaluation. A mismatch (dataset True, transform unset) is what mmseg does too; say so once.
    const reduce = this.cfg.reduce_zero_label ?? false;
    if (this.cfg.reduce_zero_label === undefined && s.raw.reduce_zero_label && !warnedReduce) {
      warnedReduce = true;
      console.warn(
        'warning: LoadAnnotations has no reduce_zero_label, so labels are read as stored (mmseg 0.30 default False) although the dataset ' +
          'sets reduce_zero_label=True for evaluation; add reduce_zero_label=True to LoadAnnotations as mmseg\'s ADE20K config does',
      );
    }
    if (reduce) {
      // mmseg: 0 -> 255, then every label -1 (255 - 1 = 254 back to 255).
      for (let i = 0; i < seg.length; i++) {
        const v = seg[i];
        seg[i] = v === 0 || v === 255 ? 255 : v - 1;
      }
    }
    const k = s.raw.num_classes;
    if (k !== undefined) {
      for (let i = 0; i < seg.length; i++) {
        const v = seg[i];
        if (v >= k && v !== 255)
          throw new DatasetError(
            file,
            `class id ${v}${reduce ? ' (after reduce_zero_label)' : ''} out of range: ${k} classes, expected 0..${k - 1} or 255`,
          );
      }
    }
    s.gt_semantic_seg = seg;
    if (s.img === undefined) {
      s.height = map.height;
      s.width = map.width;
    }
    return s;
  }
}
