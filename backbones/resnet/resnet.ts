// A ResNet with basic blocks (ResNet-18/34 of torchvision's resnet.py and mmdet's ResNet, without
// the bottleneck depths): conv1 7x7/2 -> bn1 -> ReLU -> max pool 3x3/2 (padding 1) -> layer1..4.
// State_dict keys are torchvision's (conv1, bn1, layer1.0.conv1, layer2.0.downsample.0, ...), so
// an ImageNet checkpoint loads through init_cfg. It meets the FeatureBackbone contract: outputs
// of layer1..4 at strides 4, 8, 16, 32 with base_channels * [1, 2, 4, 8] channels; any input size
// works (convolutions pad, as PyTorch's).
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../core/errors';
import { BatchNorm2d, Conv2d, ModuleList } from '../../nn/layers';
import { kaimingNormalFanOut } from '../../nn/init';
import { Module } from '../../nn/module';
import type { FeatureBackbone } from '../feature_backbone';

/** Blocks per stage for the basic-block depths (torchvision resnet18 / resnet34). */
export const RESNET_BASIC_DEPTHS: Record<number, [number, number, number, number]> = { 18: [2, 2, 2, 2], 34: [3, 4, 6, 3] };

export interface ResNetConfig {
  /** 18 or 34. */
  depth: number;
  /** Channels of layer1 (64 in torchvision); stage i has base_channels * 2^i. */
  base_channels?: number;
  /** Input channels (3 for RGB). */
  in_channels?: number;
}

const conv = (cin: number, cout: number, k: number, stride: number, pad: number) =>
  // torchvision: bias-free convs, kaiming_normal_(mode='fan_out', nonlinearity='relu').
  new Conv2d(cin, cout, k, { stride, padding: pad, bias: false, weightInit: (s, _fi, fo) => kaimingNormalFanOut(s, fo) });

/** torchvision BasicBlock: conv3x3(stride) -> BN -> ReLU -> conv3x3 -> BN, + identity or 1x1 downsample, ReLU. */
export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: ModuleList<Module> | null = null;

  constructor(cin: number, cout: number, stride: number) {
    super();
    this.conv1 = this.child('conv1', conv(cin, cout, 3, stride, 1));
    this.bn1 = this.child('bn1', new BatchNorm2d(cout));
    this.conv2 = this.child('conv2', conv(cout, cout, 3, 1, 1));
    this.bn2 = this.child('bn2', new BatchNorm2d(cout));
    if (stride !== 1 || cin !== cout) this.downsample = this.child('downsample', new ModuleList<Module>([conv(cin, cout, 1, stride, 0), new BatchNorm2d(cout)]));
  }

  /** NHWC [B, H, W, cin] -> [B, ceil(H/stride), ceil(W/stride), cout]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const y = this.bn2.forward(this.conv2.forward(tf.relu(this.bn1.forward(this.conv1.forward(x)))));
      const [dconv, dbn] = (this.downsample?.items ?? []) as [Conv2d, BatchNorm2d];
      const identity = this.downsample ? dbn.forward(dconv.forward(x)) : x;
      return tf.relu(tf.add(y, identity));
    });
  }
}

/** PyTorch MaxPool2d(3, stride 2, padding 1): pads with -inf on every side (tfjs 'same' pads only where needed). */
function maxPool3x3s2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.maxPool(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], -Infinity), 3, 2, 'valid'));
}

export class ResNet extends Module implements FeatureBackbone {
  readonly outChannels: number[];
  readonly strides = [4, 8, 16, 32];
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layers: ModuleList<BasicBlock>[];

  /** Throws ConfigError for a depth without basic blocks (50/101/152 need bottlenecks, not provided). */
  constructor(cfg: ResNetConfig) {
    super();
    const blocks = RESNET_BASIC_DEPTHS[cfg.depth];
    if (!blocks) throw new ConfigError(`model.backbone.depth ${cfg.depth} is not supported (expected one of ${Object.keys(RESNET_BASIC_DEPTHS).join(', ')})`, 'model.backbone.depth');
    const base = cfg.base_channels ?? 64;
    this.outChannels = [base, base * 2, base * 4, base * 8];
    this.conv1 = this.child('conv1', conv(cfg.in_channels ?? 3, base, 7, 2, 3));
    this.bn1 = this.child('bn1', new BatchNorm2d(base));
    let cin = base;
    this.layers = blocks.map((n, i) => {
      const cout = this.outChannels[i];
      const layer = new ModuleList(Array.from({ length: n }, (_, j) => new BasicBlock(j === 0 ? cin : cout, cout, j === 0 && i > 0 ? 2 : 1)));
      cin = cout;
      return this.child(`layer${i + 1}`, layer);
    });
  }

  /** Any size works: returns `x` itself. */
  padInput(x: tf.Tensor4D): tf.Tensor4D {
    return x;
  }

  /** NHWC [B, H, W, 3] -> layer1..4 outputs, [B, ~H/s, ~W/s, outChannels[i]] for s = 4, 8, 16, 32. */
  forwardFeatures(x: tf.Tensor4D): tf.Tensor4D[] {
    return tf.tidy(() => {
      let h = maxPool3x3s2(tf.relu(this.bn1.forward(this.conv1.forward(x))));
      const outs: tf.Tensor4D[] = [];
      for (const layer of this.layers) {
        h = layer.items.reduce((t, b) => b.forward(t), h);
        outs.push(h);
      }
      return outs;
    });
  }
}
