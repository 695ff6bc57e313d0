// Loading weights into a built model, in one place and after construction: every module of the
// tree that recorded an `init_cfg: {type: 'Pretrained', checkpoint, prefix?}` (nn/module's
// `pretrained`) gets its weights here, as mmcv's init_weights does after the model is built.
import { existsSync } from '#platform/fs';
import type { CheckpointKey, Module } from '../nn/module';
import { type CheckpointFormat, readCheckpoint } from './checkpoint';
import { detectPrefix, type LoadOptions, type LoadReport, loadStateDict, selectPrefix } from './state_dict';

export interface LoadWeightsOptions extends Pick<LoadOptions, 'strict' | 'mismatch'> {
  /**
   * Key prefix to select and strip: 'auto' (default) picks 'backbone.' when any key has it (detector
   * checkpoints), else 'module.' when every key has it (DataParallel), else none; '' means none.
   */
  prefix?: string;
  /** Entry of a .pth training checkpoint holding the weights ('auto': state_dict, else model; 'model_ema'). */
  checkpointKey?: CheckpointKey;
}

export interface LoadWeightsReport extends LoadReport {
  format: CheckpointFormat;
  prefix: string;
}

/**
 * Loads the state_dict of a weight file (.pth, safetensors or our checkpoint) into `module`, after
 * selecting `prefix`. Non-strict by default: missing/unexpected keys are returned; shape mismatches
 * throw (opts.mismatch 'skip' reports them instead). Throws CheckpointError for unreadable files.
 */
export function loadWeights(module: Module, path: string, opts: LoadWeightsOptions = {}): LoadWeightsReport {
  const file = readCheckpoint(path, opts.checkpointKey ?? 'auto');
  const prefix = opts.prefix === undefined || opts.prefix === 'auto' ? detectPrefix([...file.stateDict.keys()]) : opts.prefix;
  const tensors = prefix ? selectPrefix(file.stateDict, prefix) : file.stateDict;
  const report = loadStateDict(module, tensors, { strict: opts.strict ?? false, mismatch: opts.mismatch, source: path });
  return { ...report, format: file.format, prefix };
}

/** Modules of the tree (the root included) that recorded a Pretrained init_cfg, with their dotted names. */
function pretrainedModules(root: Module, name = ''): [string, Module][] {
  const out: [string, Module][] = root.pretrained ? [[name, root]] : [];
  for (const [child, m] of root.namedChildren()) out.push(...pretrainedModules(m, name ? `${name}.${child}` : child));
  return out;
}

/**
 * Applies every Pretrained init_cfg of the model as mmdet does: loaded non-strictly (missing and
 * unexpected keys reported through `warn`, shape mismatches fatal). A missing file is not fatal: the
 * module keeps its random initialisation and a warning says so (training from scratch). Returns
 * what happened per module name.
 */
export function initWeights(root: Module, warn: (msg: string) => void = (m) => console.warn(m)): Record<string, 'loaded' | 'scratch'> {
  const done: Record<string, 'loaded' | 'scratch'> = {};
  for (const [name, m] of pretrainedModules(root)) {
    const pre = m.pretrained!;
    const where = name ? `model.${name}.init_cfg` : 'init_cfg';
    if (!existsSync(pre.checkpoint)) {
      warn(`warning: ${where}.checkpoint ${pre.checkpoint} not found; the ${name || 'model'} is trained from scratch`);
      done[name] = 'scratch';
      continue;
    }
    const r = loadWeights(m, pre.checkpoint, { strict: false, prefix: pre.prefix, checkpointKey: pre.checkpoint_key });
    const list = (keys: string[]) => (keys.length ? ` (${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', ...' : ''})` : '');
    if (r.missing.length || r.unexpected.length) {
      warn(`${name || 'model'} weights from ${pre.checkpoint}: ${r.missing.length} missing key(s)${list(r.missing)}, ${r.unexpected.length} unexpected key(s)${list(r.unexpected)}`);
    }
    done[name] = 'loaded';
  }
  return done;
}
