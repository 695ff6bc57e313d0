// Builds torch.save-style zip checkpoints byte by byte (tests of the safe .pth reader; no torch needed).
import { deflateRawSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive of the given entries (stored, or deflated where `deflate` lists the name). */
export function makeZip(entries: [string, Uint8Array][], deflate: string[] = []): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameB = Buffer.from(name, 'utf8');
    const method = deflate.includes(name) ? 8 : 0;
    const body = method === 8 ? deflateRawSync(data) : Buffer.from(data);
    const crc = crc32(data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(method, 8);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(data.length, 22);
    lh.writeUInt16LE(nameB.length, 26);
    locals.push(lh, nameB, body);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(method, 10);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(data.length, 24);
    ch.writeUInt16LE(nameB.length, 28);
    ch.writeUInt32LE(offset, 42);
    centrals.push(ch, nameB);
    offset += 30 + nameB.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, eocd]));
}

/** Emits pickle opcodes (protocol 2), enough to write state_dicts and hostile pickles. */
export class PickleWriter {
  private parts: number[] = [0x80, 2];
  private push(...b: number[]): this {
    this.parts.push(...b);
    return this;
  }
  private u32(n: number): number[] {
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.push(0x58, ...this.u32(b.length), ...b);
  }
  int(n: number): this {
    return this.push(0x4a, ...this.u32(n >>> 0));
  }
  global(module: string, name: string): this {
    return this.push(0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1'));
  }
  mark(): this {
    return this.push(0x28);
  }
  tuple(): this {
    return this.push(0x74);
  }
  emptyTuple(): this {
    return this.push(0x29);
  }
  emptyDict(): this {
    return this.push(0x7d);
  }
  setitems(): this {
    return this.push(0x75);
  }
  setitem(): this {
    return this.push(0x73);
  }
  reduce(): this {
    return this.push(0x52);
  }
  binpersid(): this {
    return this.push(0x51);
  }
  newfalse(): this {
    return this.push(0x89);
  }
  intTuple(v: number[]): this {
    this.mark();
    for (const x of v) this.int(x);
    return this.tuple();
  }
  /** torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()) */
  tensor(key: string, storageType: string, numel: number, offset: number, size: number[], stride: number[]): this {
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.mark().str('storage').global('torch', storageType).str(key).str('cpu').int(numel).tuple().binpersid();
    this.int(offset).intTuple(size).intTuple(stride).newfalse();
    this.global('collections', 'OrderedDict').emptyTuple().reduce();
    return this.tuple().reduce();
  }
  stop(): Uint8Array {
    this.parts.push(0x2e);
    return new Uint8Array(this.parts);
  }
}
