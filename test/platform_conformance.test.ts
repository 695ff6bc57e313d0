// platform/node/<m>.ts and platform/browser/<m>.ts are chosen by package.json conditions, so they
// must export the same names; the browser path helpers must agree with node:path (POSIX).
import { readdirSync } from 'node:fs';
import * as nodePath from 'node:path';
import { describe, expect, it } from 'vitest';
import * as browserPath from '../platform/browser/path';

describe('platform modules', () => {
  it('export the same names for Node and browsers', async () => {
    const names = readdirSync('platform/node').filter((f) => f.endsWith('.ts'));
    expect(names.sort()).toEqual(readdirSync('platform/browser').filter((f) => f.endsWith('.ts')).sort());
    for (const f of names) {
      const n = Object.keys(await import(`../platform/node/${f}`)).sort();
      const b = Object.keys(await import(`../platform/browser/${f}`)).sort();
      expect(b, f).toEqual(n);
    }
  });

  it('browser path arithmetic equals node:path for the forms the library uses', () => {
    for (const args of [['a', 'b'], ['a/', '/b'], ['/x/y', '../z'], ['data/coco/', 'annotations/x.json'], ['.', 'a'], ['a/b/../../..', 'c']])
      expect(browserPath.join(...args), `join ${args}`).toBe(nodePath.join(...args));
    for (const p of ['/a/b/c.png', 'a/b', 'a', '/', 'a/b/']) {
      expect(browserPath.dirname(p), `dirname ${p}`).toBe(nodePath.dirname(p));
      expect(browserPath.basename(p), `basename ${p}`).toBe(nodePath.basename(p));
      expect(browserPath.extname(p), `extname ${p}`).toBe(nodePath.extname(p));
    }
    expect(browserPath.resolve('/r', 'a/../b')).toBe('/r/b');
    expect(browserPath.relative('/a/b', '/a/c/d')).toBe(nodePath.relative('/a/b', '/a/c/d'));
    expect(browserPath.isAbsolute('/a')).toBe(true);
  });
});
