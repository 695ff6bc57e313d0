import { describe, expect, it } from 'vitest';
import { ProgressBar } from '../core/progress';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (s: string) => (chunks.push(s), true) } };
}

describe('ProgressBar', () => {
  it('on a TTY redraws one line in place with count, percent, rate and ETA', () => {
    let t = 0;
    const { chunks, stream } = sink(true);
    const bar = new ProgressBar(100, { label: 'eval', unit: 'img', stream, now: () => t });
    t = 10_000;
    bar.tick(37);
    expect(chunks.at(-1)).toMatch(/^\r\x1b\[2Keval: \[>{11} {19}\] 37\/100 \(37%\), 3\.7 img\/s, elapsed 0:00:10, ETA 0:00:17$/);
    bar.finish();
    expect(chunks.at(-2)).toBe('\r\x1b[2K');
    expect(chunks.at(-1)).toMatch(/\n$/);
  });

  it('off a TTY prints plain lines only at each 10% step or after the interval, then one final line', () => {
    let t = 0;
    const { chunks, stream } = sink(false);
    const bar = new ProgressBar(1000, { stream, now: () => t, intervalS: 60 });
    for (let i = 0; i < 1000; i++) {
      t += 10; // 10 ms per unit: the 60 s interval never elapses, so only decile lines appear
      bar.tick();
    }
    bar.finish();
    expect(chunks.every((c) => c.endsWith('\n') && !c.includes('\r'))).toBe(true);
    // first tick (interval due from -inf), the 9 deciles 10%..90%, and the final line
    expect(chunks.length).toBe(11);
    expect(chunks.at(-1)).toMatch(/^1000\/1000 \(100%\), 100\.0 task\/s, elapsed 0:00:10, ETA 0:00:00\n$/);
  });

  it('an unknown total shows counts without percent or ETA; slow rates read as seconds per unit; quiet draws nothing', () => {
    let t = 0;
    const { chunks, stream } = sink(false);
    const bar = new ProgressBar(NaN, { stream, now: () => t, unit: 'img' });
    t = 4000;
    bar.tick();
    expect(chunks[0]).toBe('1, 4.00 s/img, 0.250 img/s, elapsed 0:00:04\n');
    const q = sink(true);
    const quiet = new ProgressBar(5, { stream: q.stream, quiet: true });
    quiet.tick();
    quiet.finish();
    expect(q.chunks).toEqual([]);
  });
});
