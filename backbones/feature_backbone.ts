// The contract every dense-prediction backbone meets, and what detectors and segmentors build
// against (no instanceof checks, no probing forwards): a Module that declares its output channels
// and strides, pads an input to a size it accepts, and returns NHWC features finest first.
// Adding a backbone = one folder under backbones/ with a class meeting this contract + one
// BACKBONES registration in backbones/index.ts (see docs/architecture.md).
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors';
import type { Module } from '../nn/module';

export interface FeatureBackbone extends Module {
  /** Channels of each output level, finest first (what the neck's in_channels must equal). */
  readonly outChannels: readonly number[];
  /** Stride of each output level relative to the input, finest first (e.g. [4, 8, 16, 32]). */
  readonly strides: readonly number[];
  /**
   * The size rule: zero-pads an NHWC batch at the bottom/right to the next size the backbone
   * accepts; returns the input itself when every size works or it is valid already.
   */
  padInput(x: tf.Tensor4D): tf.Tensor4D;
  /** NHWC float32 [B, H, W, 3] -> one NHWC map per level, [B, ceil(H/s), ceil(W/s), C] for stride s, C = outChannels. */
  forwardFeatures(x: tf.Tensor4D): tf.Tensor4D[];
}

/**
 * Checks that a built backbone meets the FeatureBackbone contract (declared members, one stride per
 * channel count) and returns it typed; throws ConfigError naming `where` otherwise (e.g. a TinyViM
 * built as a classifier, without fork_feat, declares no dense outputs).
 */
export function asFeatureBackbone(m: Module, where = 'model.backbone'): FeatureBackbone {
  const b = m as unknown as Partial<FeatureBackbone>;
  const missing = (['forwardFeatures', 'padInput'] as const).filter((k) => typeof b[k] !== 'function');
  if (!Array.isArray(b.outChannels)) missing.push('outChannels' as never);
  if (!Array.isArray(b.strides)) missing.push('strides' as never);
  if (missing.length) throw new ConfigError(`${where}: ${m.constructor.name} is not a feature backbone (lacks ${missing.join(', ')})`, where);
  if (!b.strides!.length || b.strides!.length !== b.outChannels!.length) {
    throw new ConfigError(`${where} must produce dense features (fork_feat: true for TinyViM): it declares ${b.outChannels!.length} output channel counts and ${b.strides!.length} strides`, where);
  }
  return m as unknown as FeatureBackbone;
}
