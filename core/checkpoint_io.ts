// Reading state_dicts from checkpoint files: torch.save zips (.pth/.pt/.bin, read safely by core/pth)
// and safetensors, detected by content, not by extension; plus loading one into a backbone.
import { readFileSync, writeFileSync } from '#platform/fs';
import { CheckpointError } from './errors';
import { type RawTensor, readSafetensors, writeSafetensors } from './safetensors';
import { readTorchZip } from './pth';
import { looksLikeZip } from './zip';
import type { Module } from '../nn/module';
import { type LoadReport, loadStateDict, selectPrefix, stateDict } from '../nn/state_dict';

export type CheckpointFormat = 'pth' | 'safetensors';

export interface StateDictFile {
  tensors: Map<string, RawTensor>;
  format: CheckpointFormat;
  /** Which wrapper key held the state_dict ('state_dict', 'model') or '' for a bare one. */
  wrapper: string;
  /** safetensors `__metadata__` (empty for .pth). */
  metadata: Record<string, string>;
}

const isRawTensor = (v: unknown): v is RawTensor =>
  typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v && 'data' in v && ArrayBuffer.isView((v as RawTensor).data);

function looksLikeSafetensors(buf: Uint8Array): boolean {
  if (buf.byteLength < 10) return false;
  const len = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  return len > 0 && 8 + len <= buf.byteLength && buf[8] === 0x7b; // '{'
}

/** The state_dict inside an unpickled checkpoint: a bare dict of tensors, or one under 'state_dict' / 'model'. */
function unwrap(root: unknown, source: string): { tensors: Map<string, RawTensor>; wrapper: string } {
  if (!(root instanceof Map)) throw new CheckpointError(`${source}: the checkpoint holds no dict (expected a state_dict, possibly under 'state_dict' or 'model')`);
  let dict = root as Map<unknown, unknown>;
  let wrapper = '';
  for (const key of ['state_dict', 'model']) {
    const inner = dict.get(key);
    if (inner instanceof Map && ![...dict.values()].some(isRawTensor)) {
      dict = inner as Map<unknown, unknown>;
      wrapper = key;
      break;
    }
  }
  const tensors = new Map<string, RawTensor>();
  for (const [k, v] of dict) if (typeof k === 'string' && isRawTensor(v)) tensors.set(k, v);
  if (!tensors.size) throw new CheckpointError(`${source}: no tensors found in the checkpoint${wrapper ? ` (under '${wrapper}')` : ''}`);
  return { tensors, wrapper };
}

/** Parses a checkpoint already in memory; `source` names it in errors. */
export function parseStateDict(buf: Uint8Array, source = '<buffer>'): StateDictFile {
  if (looksLikeZip(buf)) {
    const { root } = readTorchZip(buf, source);
    return { ...unwrap(root, source), format: 'pth', metadata: {} };
  }
  if (looksLikeSafetensors(buf)) {
    const st = readSafetensors(buf, source);
    return { tensors: st.tensors, format: 'safetensors', wrapper: '', metadata: st.metadata };
  }
  if (buf[0] === 0x80 && buf.byteLength > 2 && buf[1] <= 5) {
    throw new CheckpointError(
      `${source}: legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with torch >= 1.6 (the default zip format)`,
    );
  }
  throw new CheckpointError(`${source}: neither a torch zip checkpoint nor safetensors`);
}

/** Reads a .pth (torch.save zip, 'model'/'state_dict' wrappers unwrapped) or .safetensors state_dict. */
export function readStateDictFile(path: string): StateDictFile {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new CheckpointError(`${path}: cannot read checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseStateDict(buf, path);
}

export interface LoadBackboneOptions {
  /** Fail on missing/unexpected keys (num_batches_tracked excepted). Shape mismatches always fail. Default false. */
  strict?: boolean;
  /**
   * Key prefix to select and strip: 'auto' (default) picks 'backbone.' when any key has it (detector
   * checkpoints), else 'module.' when every key has it (DataParallel), else none; '' means none.
   */
  prefix?: string;
}

export interface LoadBackboneReport extends LoadReport {
  format: CheckpointFormat;
  prefix: string;
}

export function detectPrefix(keys: string[]): string {
  if (keys.some((k) => k.startsWith('backbone.'))) return 'backbone.';
  if (keys.length && keys.every((k) => k.startsWith('module.'))) return 'module.';
  return '';
}

/** Loads backbone weights from a checkpoint file into `model`, returning missing and unexpected keys. */
export function loadBackboneWeights(model: Module, path: string, opts: LoadBackboneOptions = {}): LoadBackboneReport {
  const file = readStateDictFile(path);
  const prefix = opts.prefix === undefined || opts.prefix === 'auto' ? detectPrefix([...file.tensors.keys()]) : opts.prefix;
  const tensors = prefix ? selectPrefix(file.tensors, prefix) : file.tensors;
  const report = loadStateDict(model, tensors, { strict: opts.strict ?? false, source: path });
  return { ...report, format: file.format, prefix };
}

/**
 * Saves a module's state_dict in our checkpoint format: safetensors with PyTorch key names and
 * layouts (so PyTorch's `safetensors.torch.load_file` + `load_state_dict` reads it too), int32 BN
 * counters, and string metadata (e.g. {arch: 'TinyViM_S'}).
 */
export function saveStateDictFile(module: Module, path: string, metadata: Record<string, string> = {}): void {
  writeFileSync(path, writeSafetensors(stateDict(module), { format: 'pt', ...metadata }));
}
