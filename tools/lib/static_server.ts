// A minimal static file server for the browser tests and tools/web_screenshot: URL prefixes mapped
// to folders, with the content types the page needs (application/wasm for streaming compilation,
// text/javascript).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.json': 'application/json',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `routes` ({'/': dir, '/fixtures/': dir2}; longest prefix wins) on 127.0.0.1 at a free port. */
export async function serveStatic(routes: Record<string, string>): Promise<StaticServer> {
  const prefixes = Object.keys(routes).sort((a, b) => b.length - a.length);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const prefix = prefixes.find((p) => path.startsWith(p));
    let file = prefix ? normalize(join(routes[prefix], path.slice(prefix.length))) : '';
    if (file && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!prefix || !file.startsWith(normalize(routes[prefix])) || !existsSync(file)) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((ok) => server.close(() => ok())) };
}
