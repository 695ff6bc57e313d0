import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FORMAT, readCheckpoint } from '../checkpoint';
import { writeSafetensors } from '../checkpoint/formats/safetensors';

function trainingCheckpoint(path: string): void {
  const meta = { iter: 20, epoch: 1, inner_iter: 0, CLASSES: ['circle', 'square'], optimizer: { type: 'SGD', steps: 20 }, rng: { s: 1 }, metrics: { bbox_mAP: 0.5 } };
  writeFileSync(
    path,
    writeSafetensors(
      [
        ['state_dict.conv.weight', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
        ['state_dict.bn.num_batches_tracked', { shape: [], data: Float64Array.from([7]) }],
        ['optimizer.state.conv.weight.momentum_buffer', { shape: [2, 3], data: new Float32Array(6) }],
      ],
      { format: CHECKPOINT_FORMAT, meta: JSON.stringify(meta) },
    ),
  );
}

describe('tools/publish_model', () => {
  it('drops optimizer state, keeps weights and CLASSES, and names the file after its sha256 prefix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'publish-'));
    const src = join(dir, 'latest.safetensors');
    trainingCheckpoint(src);
    const out = execFileSync('tools/publish_model', [src, join(dir, 'mask_rcnn_shapes.safetensors')], { encoding: 'utf8' });
    expect(out).toMatch(/kept 2 tensors, dropped 1 optimizer tensors and meta optimizer, rng/);
    const published = readdirSync(dir).filter((f) => f.startsWith('mask_rcnn_shapes-'));
    expect(published).toHaveLength(1);
    const bytes = readFileSync(join(dir, published[0]));
    expect(published[0]).toBe(`mask_rcnn_shapes-${createHash('sha256').update(bytes).digest('hex').slice(0, 8)}.safetensors`);
    const ck = readCheckpoint(join(dir, published[0]));
    expect([...ck.stateDict.keys()]).toEqual(['conv.weight', 'bn.num_batches_tracked']);
    expect(Array.from(ck.stateDict.get('conv.weight')!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ck.optimizerState).toEqual([]);
    expect(ck.meta).toEqual({ iter: 20, epoch: 1, inner_iter: 0, CLASSES: ['circle', 'square'], metrics: { bbox_mAP: 0.5 } });
  });

  it('refuses a missing or non-safetensors input with one line and no stack', () => {
    const dir = mkdtempSync(join(tmpdir(), 'publish-'));
    const r = spawnSync('tools/publish_model', [join(dir, 'nope.safetensors'), join(dir, 'x')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^error: .*nope\.safetensors: no such checkpoint file$/);
    writeFileSync(join(dir, 'bad.safetensors'), 'not a checkpoint at all');
    const r2 = spawnSync('tools/publish_model', [join(dir, 'bad.safetensors'), join(dir, 'x')], { encoding: 'utf8' });
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/bad\.safetensors: not a safetensors file/);
    expect(r2.stderr).not.toMatch(/\n\s+at /);
  });
});
