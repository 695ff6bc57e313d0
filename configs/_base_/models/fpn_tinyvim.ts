// Semantic FPN (mmseg 0.30 `fpn_r50.py`) with a TinyViM backbone in fork_feat mode: FPN (256
// channels, 4 outputs) and FPNHead (128 channels, strides 4-32, dropout 0.1, align_corners False),
// cross-entropy with loss weight 1.0, whole-image testing. The recipe's SyncBN is plain BatchNorm in
// this single process (same statistics: the batch is the whole batch). The backbone entry is
// TinyViM-B here; the per-variant configs replace it.
import { defineConfig } from '../../../core/config';

export default defineConfig({
  model: {
    type: 'EncoderDecoder',
    pretrained: null,
    backbone: { type: 'TinyViM', layers: [4, 3, 10, 5], embed_dims: [48, 96, 192, 384], fork_feat: true },
    neck: { type: 'FPN', in_channels: [48, 96, 192, 384], out_channels: 256, num_outs: 4 },
    decode_head: {
      type: 'FPNHead',
      in_channels: [256, 256, 256, 256],
      in_index: [0, 1, 2, 3],
      feature_strides: [4, 8, 16, 32],
      channels: 128,
      dropout_ratio: 0.1,
      num_classes: 150,
      norm_cfg: { type: 'SyncBN', requires_grad: true },
      align_corners: false,
      loss_decode: { type: 'CrossEntropyLoss', use_sigmoid: false, loss_weight: 1.0 },
    },
    train_cfg: {},
    test_cfg: { mode: 'whole' },
  },
});
