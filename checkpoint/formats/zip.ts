// A minimal zip reader (central directory, ZIP64, stored and deflate entries): enough for the
// archives that torch.save writes (uncompressed, 64-byte aligned, ZIP64 past 4 GiB).
import { inflateRawSync } from '#platform/zlib';

export class ZipError extends Error {}

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOC64 = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

/** True when the buffer starts with a zip local file header. */
export function looksLikeZip(buf: Uint8Array): boolean {
  return buf.byteLength >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly dv: DataView;

  constructor(
    private readonly buf: Uint8Array,
    private readonly source = '<buffer>',
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.readDirectory();
  }

  private fail(msg: string): never {
    throw new ZipError(`${this.source}: ${msg}`);
  }

  private u16(o: number): number {
    return this.dv.getUint16(o, true);
  }
  private u32(o: number): number {
    return this.dv.getUint32(o, true);
  }
  private u64(o: number): number {
    const v = this.dv.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('zip offset beyond 2^53');
    return Number(v);
  }

  private readDirectory(): void {
    const n = this.buf.byteLength;
    let eocd = -1;
    for (let o = n - 22; o >= Math.max(0, n - 22 - 65535); o--) {
      if (this.u32(o) === SIG_EOCD) {
        eocd = o;
        break;
      }
    }
    if (eocd < 0) this.fail('not a zip archive (no end-of-central-directory record)');
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || this.u32(loc) !== SIG_LOC64) this.fail('ZIP64 locator missing');
      const e64 = this.u64(loc + 8);
      if (this.u32(e64) !== SIG_EOCD64) this.fail('ZIP64 end-of-central-directory record missing');
      count = this.u64(e64 + 32);
      cdSize = this.u64(e64 + 40);
      cdOffset = this.u64(e64 + 48);
    }
    if (cdOffset + cdSize > n) this.fail('central directory lies outside the file (truncated?)');
    let o = cdOffset;
    for (let i = 0; i < count; i++) {
      if (this.u32(o) !== SIG_CENTRAL) this.fail(`corrupt central directory entry ${i}`);
      const method = this.u16(o + 10);
      let compressedSize = this.u32(o + 20);
      let size = this.u32(o + 24);
      const nameLen = this.u16(o + 28);
      const extraLen = this.u16(o + 30);
      const commentLen = this.u16(o + 32);
      let localHeaderOffset = this.u32(o + 42);
      const name = new TextDecoder().decode(this.buf.subarray(o + 46, o + 46 + nameLen));
      // ZIP64 extended information: only the fields saturated in the fixed header are present, in order.
      let e = o + 46 + nameLen;
      const end = e + extraLen;
      while (e + 4 <= end) {
        const id = this.u16(e);
        const len = this.u16(e + 2);
        if (id === 0x0001) {
          let p = e + 4;
          if (size === 0xffffffff) (size = this.u64(p)), (p += 8);
          if (compressedSize === 0xffffffff) (compressedSize = this.u64(p)), (p += 8);
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = this.u64(p);
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
      o = end + commentLen;
    }
  }

  /** The bytes of one entry (a view into the archive for stored entries). */
  read(name: string): Uint8Array {
    const ent = this.entries.get(name);
    if (!ent) this.fail(`zip entry '${name}' not found`);
    const o = ent.localHeaderOffset;
    if (this.u32(o) !== SIG_LOCAL) this.fail(`corrupt local header of '${name}'`);
    const start = o + 30 + this.u16(o + 26) + this.u16(o + 28);
    if (start + ent.compressedSize > this.buf.byteLength) this.fail(`entry '${name}' is truncated`);
    const raw = this.buf.subarray(start, start + ent.compressedSize);
    if (ent.method === 0) return raw;
    if (ent.method === 8) return new Uint8Array(inflateRawSync(raw));
    this.fail(`entry '${name}' uses unsupported compression method ${ent.method}`);
  }
}
