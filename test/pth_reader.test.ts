// The safe torch.save reader: real checkpoint, wrappers/prefixes/strides, and hostile pickles.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTorchZip, UnsafePickleError } from '../checkpoint/formats/pth';
import { parseCheckpoint, readCheckpoint } from '../checkpoint';
import { FIXTURES } from './helpers/tinyvim';
import { readSafetensors } from '../checkpoint/formats/safetensors';
import { PickleWriter, makeZip } from './helpers/torch_zip';

const f32bytes = (v: number[]) => new Uint8Array(new Float32Array(v).buffer);
const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

describe('torch zip checkpoint reader', () => {
  it('reads a real torch.save checkpoint: keys/shapes as the safetensors twin, int64 num_batches_tracked', () => {
    const file = readCheckpoint(FIXTURES + 'tiny_backbone.pth');
    expect(file.format).toBe('pth');
    expect(file.wrapper).toBe('model');
    const twin = readSafetensors(readFileSync(FIXTURES + 'tiny_backbone.weights.safetensors'), 'tiny_backbone.weights.safetensors').tensors;
    const floats = [...file.stateDict.keys()].filter((k) => !k.endsWith('num_batches_tracked'));
    expect(floats).toEqual([...twin.keys()]);
    for (const [k, t] of twin) {
      const got = file.stateDict.get(k)!;
      expect(got.shape, k).toEqual(t.shape);
      expect(got.dtype, k).toBe('F32');
      expect(Array.from(got.data as Float32Array), k).toEqual(Array.from(t.data as Float32Array));
    }
    const nbt = [...file.stateDict].filter(([k]) => k.endsWith('num_batches_tracked'));
    expect(nbt.length).toBeGreaterThan(0);
    for (const [k, t] of nbt) {
      expect(t.dtype, k).toBe('I64');
      expect(t.shape, k).toEqual([]);
      expect(Number((t.data as ArrayLike<number | bigint>)[0]), k).toBe(7);
    }
  });

  it('unwraps state_dict, honours storage offsets and strides, inflates deflated entries', () => {
    // storage 0: 6 floats; 'backbone.w' = storage[1:7] viewed [2,3]... we use a transposed view of a 3x2 block
    const storage = f32bytes([9, 1, 2, 3, 4, 5, 6]);
    const pkl = new PickleWriter()
      .emptyDict()
      .str('meta')
      .int(7)
      .setitem()
      .str('state_dict')
      .global('collections', 'OrderedDict')
      .emptyTuple()
      .reduce()
      .mark()
      // contiguous [2,3] from offset 1
      .str('backbone.a')
      .tensor('0', 'FloatStorage', 7, 1, [2, 3], [3, 1])
      // transposed view [3,2] of the same data: element (i,j) = storage[1 + j*3 + i]
      .str('backbone.b')
      .tensor('0', 'FloatStorage', 7, 1, [3, 2], [1, 3])
      .str('neck.c')
      .tensor('1', 'LongStorage', 1, 0, [], [])
      .setitems()
      .setitem()
      .stop();
    const long = new Uint8Array(8);
    new DataView(long.buffer).setBigInt64(0, 42n, true);
    const zip = makeZip(
      [
        ['archive/data.pkl', pkl],
        ['archive/data/0', storage],
        ['archive/data/1', long],
        ['archive/version', new TextEncoder().encode('3\n')],
      ],
      ['archive/data/0'],
    );
    const sd = parseCheckpoint(zip, 'test.pth');
    expect(sd.wrapper).toBe('state_dict');
    expect([...sd.stateDict.get('backbone.a')!.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sd.stateDict.get('backbone.b')!.shape).toEqual([3, 2]);
    expect([...sd.stateDict.get('backbone.b')!.data]).toEqual([1, 4, 2, 5, 3, 6]);
    expect(sd.stateDict.get('neck.c')!.dtype).toBe('I64');
    expect([...sd.stateDict.get('neck.c')!.data]).toEqual([42]);
  });

  it('rejects a pickle that would call os.system under torch.load (GLOBAL + REDUCE), naming the global', () => {
    // pickle.dumps({'model': E()}, protocol=2) where E.__reduce__ returns (os.system, ('echo pwned',))
    const evil = hex('80027d710058050000006d6f64656c710163706f7369780a73797374656d0a7102580a0000006563686f2070776e65647103857104527105732e');
    const zip = makeZip([['archive/data.pkl', evil]]);
    expect(() => readTorchZip(zip, 'evil.pth')).toThrow(UnsafePickleError);
    expect(() => readTorchZip(zip, 'evil.pth')).toThrow(/global 'posix\.system'/);
  });

  it('rejects builtins.eval reached through STACK_GLOBAL (protocol 4)', () => {
    const evil = hex('80049534000000000000007d948c0a73746174655f64696374948c086275696c74696e73948c046576616c9493948c087072696e742831299485945294732e');
    const zip = makeZip([['x/data.pkl', evil]]);
    expect(() => parseCheckpoint(zip, 'evil2.pth')).toThrow(/refusing to load: the pickle references the global 'builtins\.eval'/);
  });

  it('rejects a hand-made torch-looking pickle that smuggles a disallowed global', () => {
    const pkl = new PickleWriter().emptyDict().str('w').global('torch', 'load').emptyTuple().reduce().setitem().stop();
    expect(() => parseCheckpoint(makeZip([['a/data.pkl', pkl]]), 'x.pth')).toThrow(/global 'torch\.load'/);
  });

  it('names files that are neither format, and zips without data.pkl', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pth-'));
    const junk = join(dir, 'weights.pth');
    writeFileSync(junk, 'this is not a checkpoint at all');
    expect(() => readCheckpoint(junk)).toThrow(`${junk}: not a safetensors file`);
    expect(() => parseCheckpoint(makeZip([['a/other.txt', new Uint8Array([1])]]), 'z.pth')).toThrow(/no data\.pkl/);
    expect(() => readCheckpoint(join(dir, 'absent.pth'))).toThrow(/cannot read checkpoint .*absent\.pth: ENOENT/);
  });
});
