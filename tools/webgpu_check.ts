// tools/webgpu_check: the backend-portable test suites (TinyViM parity fixtures, scan ops, a training
// step against cpu; list in test/helpers/backend_suites.ts) run on another backend. It only sets
// TVD_TEST_BACKEND and runs vitest on those files: the checks and their tolerances are the tests'
// (test/helpers/test_backend.ts), so there is one copy of each. Timing is tools/benchmark's job
// (`tools/benchmark backbone ... --backend webgpu`).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../core/errors';
import { BACKEND_PORTABLE_SUITES } from '../test/helpers/backend_suites';
import { failLine, runTool } from './lib/cli';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** vitest's command-line entry (a devDependency: present in a checkout, not in the installed package). */
function vitestEntry(): string {
  try {
    const pkg = createRequire(import.meta.url).resolve('vitest/package.json');
    return join(dirname(pkg), 'vitest.mjs');
  } catch {
    throw new UserError('tools/webgpu_check runs the test suites with vitest, which is not installed: run `npm install` in a checkout of the repository');
  }
}

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/webgpu_check')
    .usage(
      '$0 [--backend webgpu|wasm|cpu] [--out report.json] [SUITE ...]\n\n' +
        'Runs the backend-portable test suites on a backend (TVD_TEST_BACKEND) and exits with vitest\'s code.\n' +
        `Suites: ${BACKEND_PORTABLE_SUITES.join(', ')}. SUITE narrows them (vitest's file filter, e.g. tinyvim_ops).\n` +
        'Without a GPU, webgpu falls back to SwiftShader when Debian\'s chromium is installed (slow).',
    )
    .option('backend', { type: 'string', choices: ['webgpu', 'wasm', 'cpu'], default: 'webgpu', describe: 'backend the suites run on' })
    .option('out', { type: 'string', describe: "also write vitest's JSON report here" })
    .strictOptions()
    .fail(failLine)
    .help()
    .parseAsync();
  const filters = argv._.map(String);
  const files = filters.length ? BACKEND_PORTABLE_SUITES.filter((f) => filters.some((s) => f.includes(s))) : [...BACKEND_PORTABLE_SUITES];
  if (files.length === 0) throw new UserError(`no backend-portable suite matches ${filters.join(', ')}; suites: ${BACKEND_PORTABLE_SUITES.join(', ')}`);
  const args = [vitestEntry(), 'run', ...files, '--reporter=verbose'];
  if (argv.out) args.push('--reporter=json', `--outputFile.json=${argv.out}`);
  console.log(`TVD_TEST_BACKEND=${argv.backend} vitest run ${files.join(' ')}`);
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, TVD_TEST_BACKEND: argv.backend } });
  return new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
});
