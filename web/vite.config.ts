// Vite config of the demo page (npm run web / npm run build:web). The page imports the package
// entry (../index.ts); Vite's browser build resolves `#platform/*` to platform/browser/*.
// The dev and preview servers also serve the repository's work_dirs/ (demo checkpoints written by
// `npm run demo` / `npm run demo:seg`) under /work_dirs/, so the page runs them without a download.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Connect, type Plugin } from 'vite';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Serves <repo>/work_dirs/** at /work_dirs/** (read-only, no directory listing). */
function serveWorkDirs(): Plugin {
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    const url = decodeURIComponent((req.url ?? '').split('?')[0]);
    if (!url.startsWith('/work_dirs/')) return next();
    const file = normalize(join(repo, url));
    if (!file.startsWith(join(repo, 'work_dirs')) || !existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404;
      res.end(`not found: ${url} (train it with npm run demo / npm run demo:seg)`);
      return;
    }
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(statSync(file).size));
    createReadStream(file).pipe(res);
  };
  return {
    name: 'tvd-serve-work-dirs',
    configureServer: (server) => void server.middlewares.use(middleware),
    configurePreviewServer: (server) => void server.middlewares.use(middleware),
  };
}

export default defineConfig({
  root: resolve(repo, 'web'),
  base: './',
  plugins: [serveWorkDirs()],
  build: { outDir: resolve(repo, 'dist/web'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 8000 },
  server: { fs: { allow: [repo] } },
  optimizeDeps: { include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu'] },
});
