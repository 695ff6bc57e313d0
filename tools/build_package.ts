// npm run build: the installable package in dist/.
//   dist/node/index.js     ESM for Node (platform/node/* inside), dependencies left as imports
//   dist/browser/index.js  ESM for bundlers targeting browsers (platform/browser/* inside)
//   dist/types/            .d.ts files (tsc), the entry is dist/types/index.d.ts
// esbuild bundles our sources because they import each other without file extensions (fine for
// tsx and bundlers, not for Node's ESM loader), and resolves `#platform/*` per target here.
import { rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';

rmSync('dist/node', { recursive: true, force: true });
rmSync('dist/browser', { recursive: true, force: true });
rmSync('dist/types', { recursive: true, force: true });
for (const platform of ['node', 'browser'] as const) {
  await build({
    entryPoints: ['index.ts'],
    outfile: `dist/${platform}/index.js`,
    bundle: true,
    platform,
    format: 'esm',
    target: 'es2022',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
}
execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
console.log('built dist/node, dist/browser, dist/types');
