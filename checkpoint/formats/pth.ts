// A safe reader of torch.save checkpoints (the zip format of torch >= 1.6).
//
// `torch.load` unpickles arbitrary Python: a crafted file can call os.system. This reader interprets
// the pickle itself and only knows the globals a checkpoint's data needs: the tensor rebuild
// functions, storage types, OrderedDict, and the data-only classes PyTorch's weights_only unpickler
// allows by default (argparse.Namespace as training scripts save their `args`, numpy scalars and
// dtypes, _codecs.encode for the bytes inside them). Those become plain data here: a Namespace is a
// PyObject holding its attribute dict, a numpy scalar a number. Any other global (every callable)
// is rejected at the moment it is named, before anything else happens, with an error naming it.
// Nothing is ever executed: the allowed globals are implemented here in TypeScript.
import { type DType, type RawTensor, decodeRaw } from './safetensors';
import { ZipArchive } from './zip';
import { CheckpointError } from '../../core/errors';

/** A pickle that references a global outside the allow-list (possible code execution under torch.load). */
export class UnsafePickleError extends CheckpointError {}

/** Storage classes torch writes into checkpoints, with the raw element type. BFloat16 is widened to F32. */
const STORAGE_TYPES: Record<string, DType | 'BF16'> = {
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};
const ELEM_BYTES: Record<DType | 'BF16', number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

const ALLOWED_FUNCTIONS = [
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  // Data-only globals (PyTorch's weights_only default allow-list treats them as safe).
  'argparse.Namespace',
  'numpy.core.multiarray.scalar',
  'numpy._core.multiarray.scalar',
  'numpy.dtype',
  '_codecs.encode',
];
/** numpy >= 1.25 pickles dtypes as instances of numpy.dtypes.<Name>DType (also data only). */
const NUMPY_DTYPE_CLASS = /^numpy\.dtypes\.[A-Za-z0-9]+DType$/;

/** Every global this reader accepts. */
export const ALLOWED_GLOBALS: readonly string[] = [...ALLOWED_FUNCTIONS, 'numpy.dtypes.*DType', ...Object.keys(STORAGE_TYPES).map((s) => `torch.${s}`)];

class PyGlobal {
  constructor(readonly name: string) {}
}

/** A data-only Python object (e.g. argparse.Namespace): its class name and its attribute dict. */
export class PyObject {
  constructor(
    readonly cls: string,
    readonly attrs: Map<unknown, unknown> = new Map(),
  ) {}
  /** The attributes as a plain object (string keys only). */
  toJSON(): Record<string, unknown> {
    return Object.fromEntries([...this.attrs].filter(([k]) => typeof k === 'string') as [string, unknown][]);
  }
}

/** A numpy dtype ('f8', '<i8', ...): only read to decode numpy scalars. */
class NumpyDType {
  constructor(readonly str: string) {}
}

/** numpy.core.multiarray.scalar(dtype, bytes) as a JS number (bigint beyond 2^53 is narrowed). */
function numpyScalar(dtype: unknown, raw: unknown, fail: (m: string) => never): number | boolean {
  if (!(dtype instanceof NumpyDType)) return fail('numpy scalar without a dtype');
  const b = raw instanceof Uint8Array ? raw : typeof raw === 'string' ? Uint8Array.from(raw, (c) => c.charCodeAt(0)) : fail('numpy scalar without bytes');
  const code = dtype.str.replace(/^[<>=|]/, '');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const need = (n: number) => (b.byteLength >= n ? true : fail(`numpy scalar of dtype ${dtype.str} has ${b.byteLength} bytes`));
  switch (code) {
    case 'f8': return need(8) && dv.getFloat64(0, true);
    case 'f4': return need(4) && dv.getFloat32(0, true);
    case 'f2': return need(2) && f16(dv.getUint16(0, true));
    case 'i8': return need(8) && Number(dv.getBigInt64(0, true));
    case 'u8': return need(8) && Number(dv.getBigUint64(0, true));
    case 'i4': return need(4) && dv.getInt32(0, true);
    case 'u4': return need(4) && dv.getUint32(0, true);
    case 'i2': return need(2) && dv.getInt16(0, true);
    case 'u2': return need(2) && dv.getUint16(0, true);
    case 'i1': return need(1) && dv.getInt8(0);
    case 'u1': return need(1) && dv.getUint8(0);
    case 'b1': case '?': return need(1) && dv.getUint8(0) !== 0;
  }
  return fail(`numpy scalar of unsupported dtype ${dtype.str}`);
}

function f16(h: number): number {
  const e = (h >> 10) & 31;
  const m = h & 1023;
  const v = e === 0 ? m * 2 ** -24 : e === 31 ? (m ? NaN : Infinity) : (1 + m / 1024) * 2 ** (e - 15);
  return h & 0x8000 ? -v : v;
}
class StorageType {
  constructor(
    readonly name: string,
    readonly dtype: DType | 'BF16',
  ) {}
}
class StorageRef {
  constructor(
    readonly key: string,
    readonly type: StorageType,
    readonly numel: number,
  ) {}
}
/** A tensor as the pickle describes it: a strided view of a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}
const MARK = Symbol('mark');
type Value = unknown;

function asNumber(v: Value, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new CheckpointError(`torch checkpoint: ${what} is not an integer`);
}

/** Interprets a pickle (protocols 0-5, the opcodes state_dicts use) with the allow-listed globals only. */
export function unpickle(data: Uint8Array, persistentLoad: (pid: Value) => Value, source = '<pickle>'): Value {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const td = new TextDecoder();
  let pos = 0;
  let stack: Value[] = [];
  const metastack: Value[][] = [];
  const memo = new Map<number, Value>();
  const fail = (msg: string): never => {
    throw new CheckpointError(`${source}: ${msg}`);
  };
  const need = (n: number) => {
    if (pos + n > data.byteLength) fail('pickle data is truncated');
  };
  const u8 = () => (need(1), data[pos++]);
  const u16 = () => (need(2), (pos += 2), dv.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), dv.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), dv.getInt32(pos - 4, true));
  const u64 = () => (need(8), (pos += 8), Number(dv.getBigUint64(pos - 8, true)));
  const bytes = (n: number) => (need(n), (pos += n), data.subarray(pos - n, pos));
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('pickle line is unterminated');
    const s = td.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): Value => {
    if (!stack.length) fail('pickle stack underflow');
    return stack.pop();
  };
  const popMark = (): Value[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) fail('pickle MARK missing');
    stack = prev!;
    return items;
  };
  const top = (): Value => {
    if (!stack.length) fail('pickle stack underflow');
    return stack[stack.length - 1];
  };
  const findGlobal = (module: string, name: string): Value => {
    const full = `${module}.${name}`;
    if (module === 'torch' && name in STORAGE_TYPES) return new StorageType(name, STORAGE_TYPES[name]);
    if (ALLOWED_FUNCTIONS.includes(full)) return new PyGlobal(full);
    if (NUMPY_DTYPE_CLASS.test(full)) return new PyGlobal('numpy.dtype');
    throw new UnsafePickleError(
      `${source}: refusing to load: the pickle references the global '${full}', which is not data a checkpoint needs ` +
        `(it could run code under torch.load); allowed globals: ${ALLOWED_GLOBALS.join(', ')}`,
    );
  };
  const call = (fn: Value, args: Value): Value => {
    if (!(fn instanceof PyGlobal)) fail(`pickle calls a non-callable object (${String(fn)})`);
    const a = args as Value[];
    switch ((fn as PyGlobal).name) {
      case 'collections.OrderedDict':
        return new Map();
      case 'torch._utils._rebuild_tensor_v2': {
        const [storage, offset, size, stride] = a;
        if (!(storage instanceof StorageRef)) fail('_rebuild_tensor_v2 without a storage');
        return new TensorRef(
          storage as StorageRef,
          asNumber(offset, 'storage offset'),
          (size as Value[]).map((v) => asNumber(v, 'size')),
          (stride as Value[]).map((v) => asNumber(v, 'stride')),
        );
      }
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
        return a[0];
      case 'argparse.Namespace':
        // Namespace(**kwargs) is pickled as NEWOBJ with no args, then BUILD with the attribute dict.
        return new PyObject('argparse.Namespace');
      case 'numpy.dtype':
        return new NumpyDType(typeof a[0] === 'string' ? a[0] : '');
      case 'numpy.core.multiarray.scalar':
      case 'numpy._core.multiarray.scalar':
        return numpyScalar(a[0], a[1], fail);
      case '_codecs.encode':
        // _codecs.encode(text, 'latin1'): how protocol-2 pickles carry bytes.
        if (typeof a[0] !== 'string') fail('_codecs.encode without a string');
        return Uint8Array.from(a[0] as string, (c) => c.charCodeAt(0) & 255);
    }
    return fail(`unsupported call ${(fn as PyGlobal).name}`);
  };
  const setItems = (dict: Value, items: Value[]) => {
    if (!(dict instanceof Map)) fail('pickle SETITEM(S) on a non-dict');
    for (let i = 0; i + 1 < items.length; i += 2) (dict as Map<Value, Value>).set(items[i], items[i + 1]);
  };
  const longFromBytes = (b: Uint8Array): number => {
    if (!b.length) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return Number(v);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: // LONG1
        stack.push(longFromBytes(bytes(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(longFromBytes(bytes(u32())));
        break;
      case 0x49: {
        // INT (text; '01'/'00' are booleans in protocol 0)
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : parseInt(s, 10));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(parseInt(line().replace(/L$/, ''), 10));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: // FLOAT (text)
        stack.push(parseFloat(line()));
        break;
      case 0x58: // BINUNICODE
        stack.push(td.decode(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(td.decode(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(td.decode(bytes(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        stack.push(line());
        break;
      case 0x54: // BINSTRING (python 2 str)
        stack.push(new TextDecoder('latin1').decode(bytes(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(new TextDecoder('latin1').decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(bytes(u64()).slice());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(Object.freeze([]));
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x74: {
        // TUPLE (popMark swaps `stack`, so take the items before pushing)
        const items = popMark();
        stack.push(Object.freeze(items));
        break;
      }
      case 0x85: // TUPLE1
        stack.push(Object.freeze([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(Object.freeze([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(Object.freeze([a, b, c]));
        break;
      }
      case 0x6c: {
        // LIST
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x91: {
        // FROZENSET
        const items = popMark();
        stack.push(new Set(items));
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) fail('pickle APPEND on a non-list');
        (l as Value[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) fail('pickle APPENDS on a non-list');
        (l as Value[]).push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const set = top();
        if (!(set instanceof Set)) fail('pickle ADDITEMS on a non-set');
        for (const it of items) (set as Set<Value>).add(it);
        break;
      }
      case 0x70: // PUT
        memo.set(parseInt(line(), 10), top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: {
        // GET
        const k = parseInt(line(), 10);
        if (!memo.has(k)) fail(`pickle memo key ${k} missing`);
        stack.push(memo.get(k));
        break;
      }
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`pickle memo key ${k} missing`);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(findGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('pickle STACK_GLOBAL with non-string names');
        stack.push(findGlobal(module as string, name as string));
        break;
      }
      case 0x69: {
        // INST "module\nname\n": a class instantiation by name
        const module = line();
        const name = line();
        const cls = findGlobal(module, name);
        const args = popMark();
        stack.push(call(cls, args));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x62: {
        // BUILD: a data object's attribute dict is stored; the state of an OrderedDict (state_dict's
        // `_metadata`) or a numpy dtype (byte order flags) is not needed; anything else is refused.
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) {
          const dict = Array.isArray(state) ? state[0] : state; // (dict, slots) or dict
          if (dict instanceof Map) for (const [k, v] of dict) obj.attrs.set(k, v);
          else if (dict !== null) fail(`pickle BUILD of ${obj.cls} with a non-dict state`);
        } else if (!(obj instanceof Map) && !(obj instanceof NumpyDType)) fail('pickle BUILD on an unsupported object');
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistentLoad(pop()));
        break;
      case 0x50: // PERSID
        stack.push(persistentLoad(line()));
        break;
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)} at byte ${pos - 1}`);
    }
  }
}

function bf16ToF32(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) u[i] = (bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16;
  return out;
}

export interface TorchCheckpoint {
  /** The unpickled object: Maps for dicts, arrays for lists/tuples, RawTensor for tensors. */
  root: unknown;
  /** Every tensor found, by dotted path from the root (e.g. 'model.patch_embed.0.c.weight'). */
  tensorCount: number;
}

/** Reads a torch.save zip checkpoint. Tensors become RawTensor (contiguous, PyTorch layout). */
export function readTorchZip(buf: Uint8Array, source = '<buffer>'): TorchCheckpoint {
  const zip = new ZipArchive(buf, source);
  const pkl = [...zip.entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pkl) throw new CheckpointError(`${source}: zip archive has no data.pkl (not a torch.save checkpoint)`);
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const order = zip.entries.get(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(zip.read(order.name)).trim() !== 'little') {
    throw new CheckpointError(`${source}: big-endian torch checkpoints are not supported`);
  }
  const persistentLoad = (pid: unknown): unknown => {
    const t = pid as unknown[];
    if (!Array.isArray(t) || t[0] !== 'storage' || !(t[1] instanceof StorageType)) {
      throw new CheckpointError(`${source}: unsupported persistent id ${JSON.stringify(String(pid))} (only tensor storages are allowed)`);
    }
    return new StorageRef(String(t[2]), t[1], asNumber(t[4], 'storage size'));
  };
  const root = unpickle(zip.read(pkl), persistentLoad, source);
  const storages = new Map<string, RawTensor['data']>();
  let tensorCount = 0;
  const materialise = (ref: TensorRef): RawTensor => {
    const { storage } = ref;
    const dtype = storage.type.dtype;
    let data = storages.get(storage.key);
    if (!data) {
      const bytes = zip.read(`${prefix}data/${storage.key}`);
      if (bytes.byteLength < storage.numel * ELEM_BYTES[dtype]) {
        throw new CheckpointError(`${source}: storage data/${storage.key} holds ${bytes.byteLength} bytes, fewer than ${storage.numel} ${dtype} values`);
      }
      data = dtype === 'BF16' ? bf16ToF32(bytes, storage.numel) : decodeRaw(dtype, bytes, 0, storage.numel);
      storages.set(storage.key, data);
    }
    const count = ref.shape.reduce((a, b) => a * b, 1);
    // Gather the strided view (contiguous views are a plain slice).
    const contiguous = ref.shape.every((_, i) => ref.shape[i] === 1 || ref.stride[i] === ref.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    let out: RawTensor['data'];
    const Ctor = data.constructor as new (n: number) => RawTensor['data'];
    if (contiguous) {
      if (ref.offset + count > data.length) throw new CheckpointError(`${source}: tensor view exceeds its storage data/${storage.key}`);
      out = data.slice(ref.offset, ref.offset + count) as RawTensor['data'];
    } else {
      out = new Ctor(count);
      const idx = new Array<number>(ref.shape.length).fill(0);
      for (let i = 0; i < count; i++) {
        let src = ref.offset;
        for (let d = 0; d < idx.length; d++) src += idx[d] * ref.stride[d];
        if (src >= data.length) throw new CheckpointError(`${source}: tensor view exceeds its storage data/${storage.key}`);
        out[i] = data[src];
        for (let d = idx.length - 1; d >= 0; d--) {
          if (++idx[d] < ref.shape[d]) break;
          idx[d] = 0;
        }
      }
    }
    tensorCount++;
    return { dtype: dtype === 'BF16' ? 'F32' : dtype, shape: [...ref.shape], data: out };
  };
  const convert = (v: unknown): unknown => {
    if (v instanceof TensorRef) return materialise(v);
    if (v instanceof PyObject) {
      const o = new PyObject(v.cls);
      for (const [k, x] of v.attrs) o.attrs.set(k, convert(x));
      return o;
    }
    if (v instanceof Map) {
      const m = new Map();
      for (const [k, x] of v) m.set(k, convert(x));
      return m;
    }
    if (Array.isArray(v)) return v.map(convert);
    return v;
  };
  return { root: convert(root), tensorCount };
}
