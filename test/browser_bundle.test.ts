// The package entry bundles for browsers: esbuild with platform=browser (the `browser` condition
// picks platform/browser/*) must resolve everything, and none of our modules may import a Node
// builtin. Third-party packages may have Node-only files that their package.json `browser` field
// disables (tfjs-backend-wasm's emscripten glue); those are allowed.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';

describe('browser bundle of index.ts', () => {
  it('resolves with no node: builtin imported by our code and no Node-only package', async () => {
    const r = await build({
      entryPoints: [resolve('index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      minify: true,
      logLevel: 'silent',
    });
    const inputs = r.metafile!.inputs;
    const offenders: string[] = [];
    for (const [file, info] of Object.entries(inputs)) {
      for (const imp of info.imports) {
        const builtin = imp.path.startsWith('node:') || imp.path.startsWith('(disabled):');
        if (builtin && !file.startsWith('node_modules/')) offenders.push(`${file} -> ${imp.original ?? imp.path}`);
      }
    }
    expect(offenders).toEqual([]);
    const files = Object.keys(inputs);
    for (const nodeOnly of ['node_modules/sharp/', 'node_modules/pngjs/', 'node_modules/webgpu/', 'platform/node/']) {
      expect(files.filter((f) => f.startsWith(nodeOnly))).toEqual([]);
    }
    expect(files).toContain('platform/browser/fs.ts');
    const bytes = r.outputFiles![0].contents.byteLength;
    console.log(`[bundle] index.ts for browsers, minified: ${(bytes / 1e6).toFixed(2)} MB`);
  });
});
