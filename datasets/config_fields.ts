/**
 * Field schemas shared by the data configs (datasets and transforms), in core's config language
 * (core/config_schema.ts): each dataset and transform declares its fields once as a core schema next
 * to its class, and its config type is inferred from that schema. The DATASETS registry validates
 * `data.train/val/test` with the same schemas at config load (the file is named in the error), and
 * buildDataset/buildPipeline check them again for configs built in code (checkDataConfig).
 */
import { type ObjectSchema, type Schema, type Shape, s, validate } from '../core/config_schema';

/** A finite number (NaN and ±Infinity are refused). */
export const finite = () => s.number({ finite: true });
/** A pair of positive finite numbers [a, b] (sizes, scales, ranges). */
export const positivePair = () => s.tuple(s.number({ gt: 0, finite: true }), s.number({ gt: 0, finite: true }));
/** Three finite numbers [a, b, c] (per-channel mean/std). */
export const finiteTriple = () => s.tuple(finite(), finite(), finite());
/** A probability in [0, 1]. */
export const probability = () => s.number({ min: 0, max: 1 });
/** mmcv file_client_args: only the local disk backend is read (other clients are refused). */
export const diskClient = () => s.object({ backend: s.literal('disk') });

/**
 * Checks one data config (without its `type`) against its schema; key paths start at `where`
 * (e.g. `pipeline[1].Resize`). Throws core's ConfigError, one line: `<where>.<field>: <expectation>`.
 */
export function checkDataConfig<S extends Shape>(schema: ObjectSchema<S>, cfg: Record<string, unknown>, where: string): void {
  const { type: _type, ...fields } = cfg;
  validate(schema as Schema, fields, () => '', where);
}
