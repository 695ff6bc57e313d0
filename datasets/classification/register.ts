// Registers the `ImageNet` dataset type in DATASETS (imported by datasets/register).
import { s } from '../../core/config_schema';
import { DATASETS } from '../../core/registry';
import { buildImageNet } from './imagenet';

if (!DATASETS.has('ImageNet')) {
  DATASETS.register('ImageNet', {
    schema: s.object({
      data_prefix: s.string().describedAs('split folder: <data_prefix>/<class>/<image>, or the root of the list file paths'),
      data_root: s.string().optional(),
      ann_file: s.string().optional().describedAs('list file, lines `<path> <label>`; unset: folder layout'),
      classes: s.array(s.string()).optional(),
      test_mode: s.boolean().optional().describedAs('true: eval transform (resize + center crop); false: training transform'),
      img_size: s.int({ min: 1 }).optional().describedAs('crop side (official --input-size 224)'),
      crop_pct: s.number({ min: 0.01, max: 1 }).optional().describedAs('eval resize = floor(img_size / crop_pct) (DeiT: 0.875)'),
      mean: s.array(s.number(), { length: 3 }).optional(),
      std: s.array(s.number({ min: 0 }), { length: 3 }).optional(),
      re_prob: s.number({ min: 0, max: 1 }).optional().describedAs('training: timm RandomErasing probability, mode pixel (official 0.25)'),
    }),
    build: ({ type: _t, ...cfg }) => buildImageNet(cfg) as never,
    doc: 'ImageNet classification: ImageFolder layout or `<path> <label>` list file; DeiT/timm transforms',
  });
}
