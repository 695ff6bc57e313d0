// Public API of the TinyViM backbone.
import { type TinyViMConfigInput, type TinyViMVariant, variantConfig } from './config';
import { TinyViM } from './model';

export * from './config';
export { TinyViM, InputSizeError, OUT_INDICES, isValidInputSize, nextValidInputSize, padInputToValid, type TinyViMLogits } from './model';
export { LaplaceMixer, mixerDims, LOW_RATIOS, poolFactor } from './laplace_mixer';

/** Builds a TinyViM from a config object with the official constructor's fields. */
export function buildTinyViM(cfg: TinyViMConfigInput): TinyViM {
  return new TinyViM(cfg);
}

/** The official TinyViM_S / _B / _L factories (layers and embed_dims preset; other fields as overrides). */
export function tinyvimVariant(variant: TinyViMVariant, overrides: Partial<TinyViMConfigInput> = {}): TinyViM {
  return new TinyViM(variantConfig(variant, overrides));
}
export const TinyViM_S = (o: Partial<TinyViMConfigInput> = {}) => tinyvimVariant('S', o);
export const TinyViM_B = (o: Partial<TinyViMConfigInput> = {}) => tinyvimVariant('B', o);
export const TinyViM_L = (o: Partial<TinyViMConfigInput> = {}) => tinyvimVariant('L', o);
