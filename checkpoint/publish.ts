// Publishing a training checkpoint, as mmdetection's tools/model_converters/publish_model.py:
// drop the optimizer state (tensors `optimizer.state.*` and meta.optimizer), keep the weights and the
// rest of meta (config, CLASSES, iteration, metrics), and name the file after the first 8 hex
// digits of its sha256 (`<out stem>-<sha8>.safetensors`). Tensor bytes are copied verbatim (no
// dtype round trip), so a published I64 buffer stays I64.
import { createHash } from 'node:crypto';
import { CheckpointError } from '../core/errors';
import { CHECKPOINT_FORMAT } from './checkpoint';

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface PublishResult {
  bytes: Buffer;
  /** First 8 hex digits of sha256(bytes). */
  sha8: string;
  kept: number;
  /** Names of the tensors dropped (optimizer state). */
  dropped: string[];
  /** meta keys removed. */
  droppedMeta: string[];
}

/** Meta keys that only resuming needs (mmdet deletes `optimizer`; the rest restore scheduler/rng state). */
const TRAINING_ONLY_META = ['optimizer', 'rng', 'scheduler'];

/**
 * Strips `buf` (a safetensors checkpoint) for release. Throws CheckpointError naming `source` when
 * the bytes are not safetensors. A file that is not ours (bare weights) is republished unchanged.
 */
export function publishCheckpoint(buf: Uint8Array, source: string): PublishResult {
  if (buf.length < 8) throw new CheckpointError(`${source}: not a safetensors file (too short)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (8 + hlen > buf.length) throw new CheckpointError(`${source}: not a safetensors file (header length ${hlen} past the end)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(buf.subarray(8, 8 + hlen)).toString('utf8'));
  } catch {
    throw new CheckpointError(`${source}: not a safetensors file (header is not JSON)`);
  }
  const data = buf.subarray(8 + hlen);
  const metadata = { ...((header.__metadata__ as Record<string, string> | undefined) ?? {}) };
  const ours = metadata.format === CHECKPOINT_FORMAT;
  const droppedMeta: string[] = [];
  if (ours && metadata.meta) {
    const meta = JSON.parse(metadata.meta) as Record<string, unknown>;
    for (const k of TRAINING_ONLY_META)
      if (k in meta) {
        delete meta[k];
        droppedMeta.push(k);
      }
    metadata.meta = JSON.stringify(meta);
  }
  const outHeader: Record<string, unknown> = {};
  if (Object.keys(metadata).length) outHeader.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  const dropped: string[] = [];
  let offset = 0;
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (ours && name.startsWith('optimizer.')) {
      dropped.push(name);
      continue;
    }
    const { dtype, shape, data_offsets: [b, en] } = e as HeaderEntry;
    outHeader[name] = { dtype, shape, data_offsets: [offset, offset + (en - b)] };
    chunks.push(data.subarray(b, en));
    offset += en - b;
  }
  const json = Buffer.from(JSON.stringify(outHeader), 'utf8');
  const pad = Buffer.from(' '.repeat((8 - (json.byteLength % 8)) % 8));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.byteLength + pad.byteLength));
  const bytes = Buffer.concat([len, json, pad, ...chunks]);
  const sha8 = createHash('sha256').update(bytes).digest('hex').slice(0, 8);
  return { bytes, sha8, kept: chunks.length, dropped, droppedMeta };
}

/** `<out without .safetensors/.pth>-<sha8>.safetensors`, as publish_model.py appends the hash. */
export function publishedName(out: string, sha8: string): string {
  return `${out.replace(/\.(safetensors|pth)$/, '')}-${sha8}.safetensors`;
}
