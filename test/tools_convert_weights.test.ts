import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertStateDict } from '../checkpoint/convert';
import { readSafetensors, type RawTensor, writeSafetensors } from '../checkpoint/formats/safetensors';

const t = (...shape: number[]): RawTensor => ({ dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

describe('convertStateDict', () => {
  it('classification weights into a detector: backbone. prefix added, classifier head dropped, missing keys listed', () => {
    const input = new Map([
      ['patch_embed.0.weight', t(24, 3, 3, 3)],
      ['head.weight', t(1000, 384)],
      ['dist_head.weight', t(1000, 384)],
    ]);
    const target = new Map<string, number[]>([
      ['backbone.patch_embed.0.weight', [24, 3, 3, 3]],
      ['neck.lateral_convs.0.conv.weight', [256, 48, 1, 1]],
    ]);
    const { tensors, report } = convertStateDict(input, target);
    expect([...tensors.keys()]).toEqual(['backbone.patch_embed.0.weight']);
    expect(report.renamed).toEqual([['patch_embed.0.weight', 'backbone.patch_embed.0.weight']]);
    expect(report.dropped.map(([k]) => k)).toEqual(['head.weight', 'dist_head.weight']);
    expect(report.missing).toEqual(['neck.lateral_convs.0.conv.weight']);
  });

  it('DataParallel prefixes are stripped and shape mismatches dropped with both shapes named', () => {
    const input = new Map([
      ['module.backbone.a', t(2)],
      ['module.roi_head.bbox_head.fc_cls.weight', t(81, 1024)],
    ]);
    const { tensors, report } = convertStateDict(input, new Map([['backbone.a', [2]], ['roi_head.bbox_head.fc_cls.weight', [5, 1024]]]));
    expect([...tensors.keys()]).toEqual(['backbone.a']);
    expect(report.renamed).toEqual([['module.backbone.a', 'backbone.a']]);
    expect(report.dropped).toEqual([['roi_head.bbox_head.fc_cls.weight', 'shape [81,1024] but the model has [5,1024]']]);
  });
});

describe('tools/convert_weights', () => {
  it('maps a DataParallel checkpoint onto the toy config and prints every renamed/dropped key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'conv-'));
    const src = join(dir, 'in.safetensors');
    writeFileSync(src, writeSafetensors([
      ['module.conv1.weight', { shape: [8, 3, 3, 3], data: new Float32Array(216).fill(0.5) }],
      ['module.fc_extra.weight', { shape: [3], data: new Float32Array(3) }],
      ['module.bn1.weight', { shape: [9], data: new Float32Array(9) }],
    ]));
    const out = join(dir, 'out.safetensors');
    const text = execFileSync('tools/convert_weights', [src, out, '--config', 'test/fixtures/configs/toy_cls.ts'], { encoding: 'utf8' });
    expect(text).toContain('renamed  module.conv1.weight -> conv1.weight');
    expect(text).toContain('dropped  fc_extra.weight (not in the model)');
    expect(text).toContain('dropped  bn1.weight (shape [9] but the model has [8])');
    expect(text).toMatch(/missing  bn1\.running_mean/);
    expect(text).toMatch(/1 tensors written, 1 renamed, 2 dropped, \d+ missing/);
    const f = readSafetensors(readFileSync(out));
    expect([...f.tensors.keys()]).toEqual(['conv1.weight']);
    expect(f.tensors.get('conv1.weight')!.data[0]).toBe(0.5);
  });
});
