// Shared option handling of the TinyViM tools (get_flops, benchmark_backbone): which model to build and at which size.
import { loadConfigUnchecked } from '../core/config';
import { ConfigError } from '../core/errors';
import { TINYVIM_VARIANTS, type TinyViMConfig, type TinyViMVariant, resolveTinyViMConfig, variantConfig } from '../backbones';

export const MODEL_CHOICES = ['TinyViM_S', 'TinyViM_B', 'TinyViM_L'] as const;

/** The TinyViM configuration named by --model/--mode, or found at `model.backbone` of --config. */
export async function tinyvimConfigFromArgs(args: { model?: string; mode?: string; config?: string }): Promise<{ cfg: TinyViMConfig; label: string }> {
  if (args.config) {
    const raw = (await loadConfigUnchecked(args.config)) as Record<string, unknown>;
    const model = raw.model as Record<string, unknown> | undefined;
    const found = model && typeof model.backbone === 'object' ? ['model.backbone', model.backbone] : model ? ['model', model] : ['<root>', raw];
    const [path, node] = found as [string, Record<string, unknown>];
    const type = String(node.type ?? '');
    const { type: _t, init_cfg: _i, ...fields } = node;
    if (type === 'TinyViM') return { cfg: resolveTinyViMConfig(fields), label: `${args.config} (${path})` };
    const v = /^TinyViM_([SBL])$/.exec(type)?.[1] as TinyViMVariant | undefined;
    if (v) return { cfg: resolveTinyViMConfig({ ...TINYVIM_VARIANTS[v], ...fields }), label: `${args.config} (${path}: ${type})` };
    throw new ConfigError(`${args.config}: ${path}.type is '${type}'; expected 'TinyViM' or TinyViM_S/B/L`, `${path}.type`, args.config);
  }
  if (!args.model) throw new ConfigError('give --model TinyViM_S|TinyViM_B|TinyViM_L or --config <file>');
  const v = args.model.replace(/^TinyViM_/, '') as TinyViMVariant;
  const mode = args.mode ?? 'backbone';
  const cfg = variantConfig(v, mode === 'backbone' ? { fork_feat: true } : { fork_feat: false });
  return { cfg, label: `${args.model} (${mode})` };
}

/** --shape H W (or a single S for S x S). */
export function parseShape(shape: number[] | undefined, def: [number, number]): [number, number] {
  if (!shape || !shape.length) return def;
  const [h, w] = shape.length === 1 ? [shape[0], shape[0]] : shape;
  if (shape.length > 2 || !Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) {
    throw new ConfigError(`--shape expects one or two positive integers (H W), got ${shape.join(' ')}`, 'shape');
  }
  return [h, w];
}
