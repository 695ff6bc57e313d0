// File-URL helpers for browsers (see platform/README.md): paths are URL paths of the page's origin.

export function pathToFileURL(path: string): URL {
  return new URL(path, globalThis.location?.href ?? 'file:///');
}

export function fileURLToPath(url: string | URL): string {
  return decodeURIComponent(new URL(url).pathname);
}
