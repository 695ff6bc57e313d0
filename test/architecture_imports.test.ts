// The folder map of docs/architecture.md, enforced: every import statement of every .ts file of the
// library (static `import`/`export ... from` and dynamic `import('...')` with a relative path) must
// go to its own folder or to a folder its row allows. A failure names the file, the import and the
// rule it breaks. Keep this table and docs/architecture.md in step.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..');

/** Folder -> the folders (or single files) its modules may import; '*' = everything. */
export const ALLOWED: Record<string, readonly string[]> = {
  tools: ['*'],
  // The browser page: a client of the package entry (index.ts), like tools/ is of the library.
  web: ['*'],
  // The public inference API (initDetector, inferenceDetector, ...): wiring above models, like tools/.
  apis: ['core', 'checkpoint', 'datasets', 'structures', 'models', 'ops', 'nn', 'fileio', 'visualization'],
  // Node/browser implementations behind '#platform/*' (file access, zlib, image decoding, GPU).
  platform: ['core', 'datasets', 'fileio'],
  test: ['*'],
  configs: ['core'],
  // datasets/loader.ts: the single-process epoch order that engine/dist's samplers shard.
  engine: ['core', 'checkpoint', 'nn', 'ops', 'datasets/loader.ts'],
  models: ['backbones', 'necks', 'heads', 'task_modules', 'ops', 'nn', 'core', 'structures', 'checkpoint', 'datasets'],
  heads: ['task_modules', 'ops', 'nn', 'core', 'structures'],
  necks: ['ops', 'nn', 'core'],
  backbones: ['ops', 'nn', 'core'],
  task_modules: ['ops', 'core'],
  checkpoint: ['nn', 'core'],
  nn: ['ops'],
  ops: ['core'],
  // The pycocotools mask API (RLE) is the one piece of evaluation/ that result structures use.
  structures: ['evaluation/mask.ts'],
  evaluation: ['core', 'structures', 'fileio'],
  datasets: ['core', 'evaluation', 'fileio'],
  visualization: ['core', 'datasets', 'structures', 'fileio'],
  // Byte-level file formats (PNG samples, label maps), shared by dataset loading and evaluation.
  fileio: [],
  core: [],
};

/** Imports allowed only as `import type` (erased at run time): the registries hold nn modules. */
export const TYPE_ONLY: Record<string, readonly string[]> = { core: ['nn/module.ts'] };

const SKIP = new Set(['node_modules', '.git', 'work_dirs', 'fixtures']);

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name) || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

export interface ImportEdge {
  file: string;
  spec: string;
  /** Path of the imported module relative to the repo root (as written, extension not added). */
  target: string;
  typeOnly: boolean;
}

/**
 * The source with comments blanked (newlines kept): a small scanner over code, strings ('', "", ``)
 * and comments, so a `/*` inside a line comment or a `//` inside a string is not taken for a comment.
 */
export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const d = text[i + 1];
    if (c === '/' && d === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && d === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Relative imports of one source text: `import ... from`, `export ... from`, side-effect imports and `import()`. */
export function parseImports(file: string, text: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  // Comments out first, so commented-out imports do not count.
  const src = stripComments(text);
  const stat = /(?:^|;|\n)\s*(import|export)\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]/g;
  const dyn = /import\(\s*['"]([^'"]+)['"]\s*\)/g;
  const add = (spec: string, typeOnly: boolean) => {
    if (!spec.startsWith('.')) return;
    edges.push({ file, spec, target: normalize(join(dirname(file), spec)), typeOnly });
  };
  for (const m of src.matchAll(stat)) {
    // `import { type A, type B } from` is type-only too.
    const braces = /\{([^}]*)\}/.exec(m[0])?.[1];
    const allTyped = braces !== undefined && braces.split(',').filter((s) => s.trim()).every((s) => /^\s*type\s/.test(s)) && !/import\s+\w+\s*,/.test(m[0]);
    add(m[3], Boolean(m[2]) || allTyped);
  }
  for (const m of src.matchAll(dyn)) add(m[1], false);
  return edges;
}

const top = (p: string) => p.split('/')[0];
const withTs = (p: string) => (p.endsWith('.ts') ? p : `${p}.ts`);

/** The broken rule of an edge, or null when allowed. */
export function violation(e: ImportEdge): string | null {
  const from = top(e.file);
  const to = top(e.target);
  if (!e.file.includes('/') || from === to) return null;
  const rules = ALLOWED[from];
  if (!rules) return `${from}/ is not in the folder map (add it to docs/architecture.md and ALLOWED)`;
  if (rules.includes('*') || rules.includes(to) || rules.includes(withTs(e.target))) return null;
  if (e.typeOnly && (TYPE_ONLY[from] ?? []).includes(withTs(e.target))) return null;
  const allowed = [...rules, ...(TYPE_ONLY[from] ?? []).map((t) => `${t} (type only)`)];
  return `${from}/ may import ${allowed.join(', ') || 'nothing of ours'}`;
}

describe('architecture: imports follow docs/architecture.md', () => {
  const files = tsFiles(ROOT).map((f) => relative(ROOT, f));
  const edges = files.flatMap((f) => parseImports(f, readFileSync(join(ROOT, f), 'utf8')));

  it('parses the import graph of the whole tree', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(edges.some((e) => e.file === 'engine/runner.ts' && e.target === 'checkpoint')).toBe(true);
  });

  it('every import goes to an allowed folder', () => {
    const bad = edges.map((e) => [e, violation(e)] as const).filter(([, v]) => v !== null);
    expect(bad.map(([e, v]) => `${e.file} imports '${e.spec}': ${v}`)).toEqual([]);
  });

  it('the checker catches what it should', () => {
    const e = (file: string, spec: string, text = `import { x } from '${spec}';`) => parseImports(file, text)[0];
    expect(violation(e('models/x.ts', '../evaluation/coco'))).toMatch(/^models\/ may import/);
    expect(violation(e('evaluation/x.ts', '../models/mask_rcnn'))).toMatch(/^evaluation\/ may import core, structures, fileio$/);
    expect(violation(e('core/x.ts', '../nn/module'))).toMatch(/nn\/module\.ts \(type only\)/);
    expect(violation(e('core/x.ts', '../nn/module', "import type { Module } from '../nn/module';"))).toBeNull();
    expect(violation(e('structures/x.ts', '../evaluation/coco'))).not.toBeNull();
    expect(violation(e('structures/x.ts', '../evaluation/mask'))).toBeNull();
    expect(parseImports('ops/x.ts', "// import { a } from '../models/y';\nconst m = await import('../core/errors');").map((x) => x.target)).toEqual(['core/errors']);
    expect(parseImports('nn/x.ts', "import '../ops/fused_ops';\nexport * from '../ops/resize';").map((x) => x.target)).toEqual(['ops/fused_ops', 'ops/resize']);
    // A `/*` inside a line comment (e.g. a glob in prose) must not hide the imports after it.
    expect(parseImports('engine/x.ts', "// see mmdet/datasets/samplers/*.py\nimport { a } from '../datasets/loader';").map((x) => x.target)).toEqual(['datasets/loader']);
    expect(parseImports('ops/x.ts', "const u = 'http://x'; /* import { b } from '../models/y'; */ import { c } from './z';").map((x) => x.target)).toEqual(['ops/z']);
  });
});
