// The safetensors format: 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}, then raw
// little-endian bytes. Used for the reference fixtures and for our own checkpoints.

export type DType = 'F32' | 'F64' | 'I32' | 'I64' | 'U8' | 'I8' | 'BOOL' | 'F16' | 'I16';

export interface RawTensor {
  dtype: DType;
  shape: number[];
  /** Values decoded to a JS typed array (I64 becomes Float64Array: exact up to 2^53). */
  data: Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array;
}

export interface SafetensorsFile {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {}

const BYTES: Record<DType, number> = { F32: 4, F64: 8, I32: 4, I64: 8, U8: 1, I8: 1, BOOL: 1, F16: 2, I16: 2 };

function f16ToF32(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Decodes `count` little-endian values of `dtype` starting at `bytes[offset]`. */
export function decodeRaw(dtype: DType, bytes: Uint8Array, offset: number, count: number): RawTensor['data'] {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * BYTES[dtype]);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = f16ToF32(view.getUint16(i * 2, true));
      return out;
    }
    case 'I32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    case 'I64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      return out;
    }
    case 'I16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'I8':
      return new Int8Array(bytes.slice(offset, offset + count));
    case 'U8':
    case 'BOOL':
      return new Uint8Array(bytes.slice(offset, offset + count));
  }
}

/** Parses a safetensors buffer. `source` names the file in error messages. */
export function readSafetensors(buf: Uint8Array, source = '<buffer>'): SafetensorsFile {
  if (buf.byteLength < 8) throw new SafetensorsError(`${source}: not a safetensors file (shorter than its 8-byte header length)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(dv.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > buf.byteLength) {
    throw new SafetensorsError(`${source}: not a safetensors file (header length ${headerLen} does not fit a ${buf.byteLength}-byte file)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError(`${source}: safetensors header is not valid JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, RawTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as { dtype: DType; shape: number[]; data_offsets: [number, number] };
    if (!(dtype in BYTES)) throw new SafetensorsError(`${source}: tensor '${name}' has unsupported dtype '${dtype}'`);
    const count = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = data_offsets;
    if (end - begin !== count * BYTES[dtype] || dataStart + end > buf.byteLength) {
      throw new SafetensorsError(`${source}: tensor '${name}' byte range [${begin}, ${end}) does not match shape [${shape}] of ${dtype}`);
    }
    tensors.set(name, { dtype, shape, data: decodeRaw(dtype, buf, dataStart + begin, count) });
  }
  return { tensors, metadata };
}

function dtypeOf(data: RawTensor['data']): DType {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof Int8Array) return 'I8';
  return 'U8';
}

/** Serialises tensors (in insertion order) and string metadata into a safetensors buffer. */
export function writeSafetensors(
  tensors: Iterable<[string, { shape: number[]; data: RawTensor['data'] }]>,
  metadata: Record<string, string> = {},
): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const dtype = dtypeOf(t.data);
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  // Pad the header to 8 bytes so the data section is aligned, as the reference writer does.
  const headerBytes = Buffer.concat([json, Buffer.from(' '.repeat((8 - (json.byteLength % 8)) % 8))]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.byteLength));
  return Buffer.concat([len, headerBytes, ...chunks]);
}
