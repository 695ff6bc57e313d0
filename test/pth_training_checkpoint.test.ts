// Official-style training checkpoints (TinyViM main.py: {'model', 'optimizer', 'lr_scheduler', 'epoch',
// 'model_ema', 'scaler', 'args'} with args an argparse.Namespace) load safely: data-only globals become
// plain data, callables are still refused naming the global, the weights come from 'model' (or the
// asked key). Fixture: test/fixtures/tinyvim/tiny_cls_train_checkpoint.pth (torch.save, PyTorch 2.11).
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TinyViM } from '../backbones/tinyvim';
import { loadWeights, parseCheckpoint, readCheckpoint } from '../checkpoint';
import { PyObject, UnsafePickleError, readTorchZip } from '../checkpoint/formats/pth';
import { expectClose, FIXTURES, fixture, tensorOf, toNHWC } from './helpers/tinyvim';
import { PickleWriter, makeZip } from './helpers/torch_zip';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const CKPT = FIXTURES + 'tiny_cls_train_checkpoint.pth';

function tinyCls(): TinyViM {
  const meta = JSON.parse(fixture('tiny_cls.weights.safetensors').metadata.config);
  return new TinyViM({ layers: meta.layers, embed_dims: meta.embed_dims, downsamples: meta.downsamples, fork_feat: false, num_classes: meta.num_classes, distillation: meta.distillation });
}

describe('official training checkpoint', () => {
  it('reads every entry as data: args Namespace, epoch, optimizer numbers and tensors', () => {
    const { root } = readTorchZip(readFileSync(CKPT), CKPT);
    const r = root as Map<string, unknown>;
    expect([...r.keys()]).toEqual(['model', 'optimizer', 'lr_scheduler', 'epoch', 'model_ema', 'scaler', 'args']);
    expect(r.get('epoch')).toBe(299);
    const args = r.get('args');
    expect(args).toBeInstanceOf(PyObject);
    expect((args as PyObject).cls).toBe('argparse.Namespace');
    expect((args as PyObject).attrs.size).toBeGreaterThan(0);
    for (const v of (args as PyObject).attrs.values()) expect(['string', 'number', 'boolean', 'object']).toContain(typeof v);
    const opt = r.get('optimizer') as Map<string, unknown>;
    const groups = opt.get('param_groups') as Map<string, unknown>[];
    expect(typeof groups[0].get('lr')).toBe('number');
    const state = opt.get('state') as Map<number, Map<string, unknown>>;
    expect(state.size).toBeGreaterThan(0);
    expect([...state.values()][0].has('exp_avg')).toBe(true);
  });

  it("takes the weights from 'model': the classifier reproduces the reference logits", async () => {
    const file = readCheckpoint(CKPT);
    expect(file.wrapper).toBe('model');
    const model = tinyCls();
    const report = loadWeights(model, CKPT, { strict: true });
    expect(report).toMatchObject({ missing: [], unexpected: [], format: 'pth' });
    model.eval();
    const io = fixture('tiny_cls.io.safetensors').tensors;
    await expectClose(model.forwardLogits(toNHWC(tensorOf(io, 'input'))) as tf.Tensor, tensorOf(io, 'logits'), 1e-4, 1e-4, 'logits from the training checkpoint');
    model.dispose();
  });

  it("checkpointKey 'model_ema' takes the EMA weights; a missing key is named with what is there", () => {
    const model = readCheckpoint(CKPT, 'model').stateDict;
    const ema = readCheckpoint(CKPT, 'model_ema');
    expect(ema.wrapper).toBe('model_ema');
    const k = 'head.weight';
    const a = model.get(k)!.data as Float32Array;
    const b = ema.stateDict.get(k)!.data as Float32Array;
    const maxDiff = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
    expect(maxDiff).toBeGreaterThan(0);
    expect(maxDiff).toBeLessThan(0.01); // the fixture's EMA = weights + 0.001 noise
    expect(() => readCheckpoint(FIXTURES + 'tiny_backbone.pth', 'model_ema')).toThrow(/checkpoint key 'model_ema' asked for, but the checkpoint has no dict under it \(dict entries: model\)/);
  });
});

describe('data-only globals stay data; callables are refused', () => {
  const bytesF8 = (v: number) => String.fromCharCode(...new Uint8Array(new Float64Array([v]).buffer));
  it('numpy scalars (dtype + _codecs.encode bytes) become numbers', () => {
    // {'w': tensor, 'best_acc': numpy.float64(0.5)} as protocol 2 pickles a numpy scalar.
    const p = new PickleWriter().emptyDict();
    p.str('w').tensor('0', 'FloatStorage', 1, 0, [1], [1]).setitem();
    p.str('best_acc').global('numpy.core.multiarray', 'scalar').mark();
    p.global('numpy', 'dtype').mark().str('f8').newfalse().newfalse().tuple().reduce();
    p.global('_codecs', 'encode').mark().str(bytesF8(0.5)).str('latin1').tuple().reduce();
    p.tuple().reduce().setitem();
    const zip = makeZip([['a/data.pkl', p.stop()], ['a/data/0', new Uint8Array(new Float32Array([3]).buffer)]]);
    const { root } = readTorchZip(zip, 'np.pth');
    expect((root as Map<string, unknown>).get('best_acc')).toBe(0.5);
  });

  it('a Namespace beside an os.system call is still refused naming the global, nothing executed', () => {
    const p = new PickleWriter().emptyDict();
    p.str('args').global('argparse', 'Namespace').emptyTuple().reduce().setitem();
    p.str('evil').global('posix', 'system').mark().str('touch /tmp/pwned').tuple().reduce().setitem();
    const zip = makeZip([['a/data.pkl', p.stop()]]);
    expect(() => parseCheckpoint(zip, 'evil.pth')).toThrow(UnsafePickleError);
    expect(() => parseCheckpoint(zip, 'evil.pth')).toThrow(/evil\.pth: refusing to load: the pickle references the global 'posix\.system'/);
  });
});
