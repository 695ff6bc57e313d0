import { describe, expect, it } from 'vitest';
import { applyCfgOptions, loadConfig, parseCfgValue } from '../core/config';
import { ConfigError } from '../core/errors';
import { buildPipeline } from '../datasets/pipeline';
// The dataset types (with their transform schemas) and the models the fixture configs name.
import '../datasets/register';
import '../models/index';

const F = 'test/fixtures/configs/merge';

async function configError(file: string, opts: string[] = []): Promise<ConfigError> {
  try {
    await loadConfig(file, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`${file} loaded without error`);
}

describe('config inheritance (mmcv semantics)', () => {
  it('deep-merges dicts, replaces lists, honours _delete_', async () => {
    const { cfg, origin } = await loadConfig(`${F}/child.ts`);
    expect(cfg.optimizer).toEqual({ type: 'SGD', lr: 0.02, momentum: 0.9, weight_decay: 1e-4, paramwise_cfg: { norm_decay_mult: 0, bias_decay_mult: 0 } });
    expect(cfg.lr_config).toEqual({ policy: 'poly', power: 0.9, min_lr: 1e-4, by_epoch: false });
    expect(cfg.runner).toEqual({ type: 'IterBasedRunner', max_iters: 40000 });
    expect(cfg.workflow).toEqual([['train', 2]]);
    expect(cfg.model).toEqual({ type: 'ToyClassifier', width: 8, num_classes: 4 });
    expect(origin('optimizer.lr')).toMatch(/merge\/child\.ts$/);
    expect(origin('optimizer.momentum')).toMatch(/merge\/base\.ts$/);
    expect(origin('model.width')).toMatch(/_base_\/toy_model\.ts$/);
  });

  it('rejects a dict over a non-dict without _delete_, and overlapping bases', async () => {
    expect((await configError(`${F}/no_delete.ts`)).message).toMatch(/workflow: is a dict here but a list in the base config .*_delete_/);
    expect((await configError(`${F}/overlap.ts`)).message).toMatch(/key 'model' is set by two _base_ files/);
  });

  it('reports a missing file', async () => {
    const e = await configError(`${F}/nope.ts`);
    expect(e.message).toBe(`config file not found: ${F}/nope.ts`);
  });
});

describe('strict validation', () => {
  it('unknown key: path, file and nearest names', async () => {
    const e = await configError(`${F}/bad_key.ts`);
    expect(e.keyPath).toBe('model.widht');
    expect(e.file).toMatch(/bad_key\.ts$/);
    expect(e.message).toMatch(/bad_key\.ts: model\.widht: unknown key 'widht'; nearest valid names: width/);
  });

  it('wrong type names the expectation', async () => {
    const e = await configError(`${F}/bad_type.ts`);
    expect(e.message).toMatch(/bad_type\.ts: optimizer\.momentum: expected a number >= 0, got the string "high"/);
  });

  it('unknown registered type suggests the registered ones', async () => {
    const e = await configError(`${F}/unknown_model.ts`);
    expect(e.message).toMatch(/model\.type: unknown model type 'ToyClasifier'; nearest valid names: ToyClassifier/);
  });

  it('unknown lr policy and runner key', async () => {
    expect((await configError(`${F}/base.ts`, ['lr_config.policy=cosine'])).message).toMatch(/lr_config\.policy: unknown lr schedule type 'cosine'/);
    const e = await configError(`${F}/base.ts`, ['runner.max_iter=5']);
    expect(e.message).toMatch(/--cfg-options: runner\.max_iter: unknown key 'max_iter'; nearest valid names: max_epochs/);
  });

  it('missing required key', async () => {
    const e = await configError(`${F}/base.ts`, ['optimizer.lr=None']);
    expect(e.message).toMatch(/optimizer\.lr: expected a number >= 0, got null/);
  });
});

describe('--cfg-options', () => {
  it('parses values as mmcv DictAction', () => {
    expect(parseCfgValue('3')).toBe(3);
    expect(parseCfgValue('1e-4')).toBe(1e-4);
    expect(parseCfgValue('True')).toBe(true);
    expect(parseCfgValue('false')).toBe(false);
    expect(parseCfgValue('None')).toBe(null);
    expect(parseCfgValue('[1,2,3]')).toEqual([1, 2, 3]);
    expect(parseCfgValue('1,2')).toEqual([1, 2]);
    expect(parseCfgValue('[(1,2),(3,4)]')).toEqual([[1, 2], [3, 4]]);
    expect(parseCfgValue('[]')).toEqual([]);
    expect(parseCfgValue('bbox')).toBe('bbox');
    expect(parseCfgValue("'12'")).toBe('12');
  });

  it('sets nested keys and list elements', async () => {
    const cfg: Record<string, unknown> = { a: { b: 1 }, l: [{ x: 1 }, { x: 2 }] };
    applyCfgOptions(cfg, ['a.b=2', 'a.c=[1,2]', 'l.1.x=5']);
    expect(cfg).toEqual({ a: { b: 2, c: [1, 2] }, l: [{ x: 1 }, { x: 5 }] });
    expect(() => applyCfgOptions(cfg, ['l.7.x=1'])).toThrow(/'7' is not an index of the 2-element list at l/);
    const { cfg: loaded } = await loadConfig(`${F}/child.ts`, ['optimizer.lr=0.5', 'workflow.0.1=3', 'evaluation.metric=[accuracy]']);
    expect(loaded.optimizer.lr).toBe(0.5);
    expect(loaded.workflow).toEqual([['train', 3]]);
    expect(loaded.evaluation?.metric).toEqual(['accuracy']);
  });
});

describe('data configs are checked in the config language of core/', () => {
  it('a bad transform field in a config file is one line: file, field path, expectation', async () => {
    const e = await configError('test/fixtures/configs/bad_transform_field.ts');
    expect(e.message).toBe(
      'test/fixtures/configs/bad_transform_field.ts: data.train.pipeline.2.keep_ratio: expected true or false, got the string "yes"',
    );
    expect(e.keyPath).toBe('data.train.pipeline.2.keep_ratio');
    expect(e.file).toBe('test/fixtures/configs/bad_transform_field.ts');
  });

  it('a bad transform field from --cfg-options names the option, and an unknown one the nearest names', async () => {
    const f = 'test/fixtures/configs/tiny_mask_rcnn_shapes.ts';
    expect((await configError(f, ['data.train.pipeline.3.flip_ratio=2'])).message).toBe(
      '--cfg-options: data.train.pipeline.3.flip_ratio: expected a number >= 0 and <= 1, got number 2',
    );
    expect((await configError(f, ['data.train.pipeline.5.size_divisr=32'])).message).toMatch(
      /^--cfg-options: data\.train\.pipeline\.5\.size_divisr: unknown key 'size_divisr'; nearest valid names: size_divisor/,
    );
  });

  it('a pipeline built in code names the transform by position and type, in one line', () => {
    let msg = '';
    try {
      buildPipeline([{ type: 'LoadImageFromFile' }, { type: 'Pad', size_divisor: 32, pad_val: { img: 0, mask: 1 } }]);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      msg = (err as Error).message;
    }
    expect(msg).toBe("pipeline[1].Pad.pad_val.mask: unknown key 'mask'; nearest valid names: masks, img, seg");
    expect(msg).not.toContain('\n');
  });
});
