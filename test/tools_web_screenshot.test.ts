// tools/web_screenshot's user errors: a missing trained checkpoint or bad flag is one line naming the
// flag and what to do, before anything is built or launched. (Its browser path is the one the
// Chromium tests run: tools/lib/chromium_page.ts, tools/lib/static_server.ts.)
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function run(args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync('tools/web_screenshot', args, { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

describe('tools/web_screenshot', () => {
  it('names the missing checkpoint and the command that trains it, in one line', () => {
    const r = run(['--tasks', 'seg', '--seg', 'no/such/latest.safetensors']);
    if (r.stderr.includes('/usr/bin/chromium not found')) {
      expect(r.stderr.trim()).toBe("error: /usr/bin/chromium not found: install Debian's chromium package (apt-get install chromium)");
      return;
    }
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: --seg no/such/latest.safetensors: no such checkpoint (train it with `npm run demo:seg`, or pass an exported one)');
  }, 60_000);

  it('rejects a negative number of timed runs', () => {
    const r = run(['--runs', '-1', '--tasks', 'det']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--runs: expected a whole number >= 0, got -1|chromium not found/);
  }, 60_000);
});
