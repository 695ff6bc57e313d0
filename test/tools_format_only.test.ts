import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Evaluator } from '../core/registry';
import { formatOnlyEvaluator } from '../tools/lib/format_only';

function recordingEvaluator() {
  const seen: number[] = [];
  const written: string[] = [];
  const ev: Evaluator<number, number> = {
    reset: () => void seen.splice(0),
    process: (_b, outs) => void seen.push(...outs),
    evaluate: () => {
      throw new Error('test-dev has no annotations: scoring must not run');
    },
    writeResults: (out) => {
      written.push(`${out}:${seen.join(',')}`);
      return [out];
    },
  };
  return { ev, seen, written };
}

describe('tools/eval --format-only', () => {
  it('collects results and writes them without ever scoring', async () => {
    const { ev, written } = recordingEvaluator();
    const f = formatOnlyEvaluator(ev, 'sub.json', 'c.ts');
    f.reset();
    await f.process(0, [1, 2]);
    await f.process(0, [3]);
    const report = await f.evaluate();
    expect(report.metrics).toEqual({});
    expect(f.writeResults!('sub.json', {}, report)).toEqual(['sub.json']);
    expect(written).toEqual(['sub.json:1,2,3']);
  });

  it('needs --out and an evaluator that writes results', () => {
    const { ev } = recordingEvaluator();
    expect(() => formatOnlyEvaluator(ev, undefined, 'c.ts')).toThrow(/--format-only needs --out/);
    expect(() => formatOnlyEvaluator({ ...ev, writeResults: undefined }, 'x.json', 'c.ts')).toThrow(/evaluator of c.ts writes no results files/);
  });

  it('tools/eval --help lists --format-only and --aug-test', () => {
    const help = execFileSync('tools/eval', ['--help'], { encoding: 'utf8' });
    expect(help).toMatch(/--format-only/);
    expect(help).toMatch(/--aug-test/);
  });
});
