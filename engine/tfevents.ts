// TensorBoard event files written directly (no tfjs-node, no TensorFlow): the TFRecord framing
// (length, masked CRC32C of the length, payload, masked CRC32C of the payload) around protobuf
// `Event` messages with `Summary.Value.simple_value` scalars, as tensorboard's EventFileWriter
// writes them. Formats: tensorflow/core/util/event.proto, tensorflow/core/framework/summary.proto,
// tensorflow/core/lib/io/record_writer.cc (framing), tensorflow/core/lib/hash/crc32c.h (masking).
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1; // Castagnoli, reflected
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli) of `bytes`, as an unsigned 32-bit integer. crc32c("123456789") = 0xe3069283. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC32C_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 and add 0xa282ead8 (crc32c.h Mask), so CRCs of CRCs stay distinct. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: uint64 LE length, uint32 LE masked CRC of those 8 bytes, payload, uint32 LE masked CRC of the payload. */
export function tfRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + payload.length + 4);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(payload.length), true);
  dv.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(payload, 12);
  dv.setUint32(12 + payload.length, maskedCrc32c(payload), true);
  return out;
}

/** Splits a TFRecord stream into payloads. Throws Error naming the record when a length or data CRC does not match. */
export function readTfRecords(bytes: Uint8Array): Uint8Array[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (o + 12 > bytes.length) throw new Error(`record ${out.length}: truncated header`);
    const len = Number(dv.getBigUint64(o, true));
    if (dv.getUint32(o + 8, true) !== maskedCrc32c(bytes.subarray(o, o + 8))) throw new Error(`record ${out.length}: length CRC mismatch`);
    const data = bytes.subarray(o + 12, o + 12 + len);
    if (data.length !== len || o + 16 + len > bytes.length) throw new Error(`record ${out.length}: truncated payload`);
    if (dv.getUint32(o + 12 + len, true) !== maskedCrc32c(data)) throw new Error(`record ${out.length}: data CRC mismatch`);
    out.push(data);
    o += 16 + len;
  }
  return out;
}

// Minimal protobuf writer: varint keys, fixed64/fixed32 and length-delimited fields.
class Pb {
  private parts: number[] = [];
  private varint(v: bigint): void {
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
  }
  private key(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }
  int64(field: number, v: number): this {
    this.key(field, 0);
    this.varint(BigInt(Math.trunc(v)));
    return this;
  }
  double(field: number, v: number): this {
    this.key(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.parts.push(...b);
    return this;
  }
  float(field: number, v: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.parts.push(...b);
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2);
    this.varint(BigInt(b.length));
    this.parts.push(...b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** Event{wall_time=1 (double, s), step=2 (int64), file_version=3 (string) | summary=5 (Summary)}. */
export function encodeScalarEvent(wallTime: number, step: number, scalars: Record<string, number>): Uint8Array {
  const summary = new Pb();
  // Summary.value=1 (repeated Value); Value.tag=1, Value.simple_value=2 (float).
  for (const [tag, v] of Object.entries(scalars)) summary.bytes(1, new Pb().string(1, tag).float(2, v).finish());
  return new Pb().double(1, wallTime).int64(2, step).bytes(5, summary.finish()).finish();
}

export function encodeVersionEvent(wallTime: number): Uint8Array {
  return new Pb().double(1, wallTime).string(3, 'brain.Event:2').finish();
}

/** A decoded scalar event (for tests and tools that read our files back). */
export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: Record<string, number>;
}

interface PbField {
  field: number;
  wire: number;
  value: bigint | Uint8Array | number;
  /** For fixed32: the raw float; for fixed64: the raw double. */
}

function parsePb(b: Uint8Array): PbField[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: PbField[] = [];
  let o = 0;
  const varint = (): bigint => {
    let r = 0n;
    let s = 0n;
    for (;;) {
      if (o >= b.length) throw new Error('protobuf: truncated varint');
      const x = b[o++];
      r |= BigInt(x & 0x7f) << s;
      if (!(x & 0x80)) return r;
      s += 7n;
    }
  };
  while (o < b.length) {
    const k = Number(varint());
    const field = k >> 3;
    const wire = k & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 1) {
      out.push({ field, wire, value: dv.getFloat64(o, true) });
      o += 8;
    } else if (wire === 5) {
      out.push({ field, wire, value: dv.getFloat32(o, true) });
      o += 4;
    } else if (wire === 2) {
      const n = Number(varint());
      out.push({ field, wire, value: b.subarray(o, o + n) });
      o += n;
    } else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
  return out;
}

/** Decodes an Event payload written by encodeScalarEvent / encodeVersionEvent. */
export function decodeEvent(payload: Uint8Array): DecodedEvent {
  const ev: DecodedEvent = { wallTime: 0, step: 0, scalars: {} };
  for (const f of parsePb(payload)) {
    if (f.field === 1) ev.wallTime = f.value as number;
    else if (f.field === 2) ev.step = Number(BigInt.asIntN(64, f.value as bigint));
    else if (f.field === 3) ev.fileVersion = new TextDecoder().decode(f.value as Uint8Array);
    else if (f.field === 5) {
      for (const v of parsePb(f.value as Uint8Array)) {
        if (v.field !== 1) continue;
        let tag = '';
        let val = NaN;
        for (const g of parsePb(v.value as Uint8Array)) {
          if (g.field === 1) tag = new TextDecoder().decode(g.value as Uint8Array);
          else if (g.field === 2) val = g.value as number;
        }
        ev.scalars[tag] = val;
      }
    }
  }
  return ev;
}

/**
 * Appends scalar events to `<logDir>/events.out.tfevents.<unix s>.<host>` (the name TensorBoard
 * globs for). Each add() is one synchronous append, so a crashed run keeps what it logged.
 */
export class EventFileWriter {
  readonly path: string;
  constructor(logDir: string, now = Date.now() / 1000) {
    mkdirSync(logDir, { recursive: true });
    this.path = join(logDir, `events.out.tfevents.${Math.floor(now)}.${hostname()}`);
    writeFileSync(this.path, tfRecord(encodeVersionEvent(now)));
  }

  /** Writes `scalars` (tag -> value) at `step`; non-finite values are skipped (TensorBoard cannot plot them). */
  addScalars(step: number, scalars: Record<string, number>, wallTime = Date.now() / 1000): void {
    const finite = Object.fromEntries(Object.entries(scalars).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)));
    if (Object.keys(finite).length === 0) return;
    appendFileSync(this.path, tfRecord(encodeScalarEvent(wallTime, step, finite)));
  }
}
