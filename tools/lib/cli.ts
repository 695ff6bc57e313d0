// Shared plumbing of the CLIs (tools/*.ts): error reporting, backend selection, registration of model/dataset/evaluator types.
import { BACKEND_CHOICES, type BackendRequest, describeBackend, selectBackend } from '../../ops/backend';
import { UserError } from '../../core/errors';
import { fileError } from '../../core/fsio';

/**
 * Registers the project's model, dataset and evaluator types (models/index, datasets/register, which
 * brings its evaluators). Config files may also import registration modules of their own (test
 * fixtures do).
 */
export async function importRegistrations(): Promise<void> {
  await import('../../models/index');
  await import('../../datasets/register');
}

export { BACKEND_CHOICES };

/** Selects the backend and prints which one runs and why better ones were skipped. */
export async function setupBackend(request: string): Promise<string> {
  const choice = await selectBackend(request as BackendRequest);
  console.log(describeBackend(choice));
  return choice.name;
}

/**
 * Runs a CLI main function: user errors (bad config, checkpoint, flags, backend) and file-system
 * errors the environment causes (ENOSPC, EACCES, ENOENT... with the file named) print one line and
 * exit 1; anything else is a bug and prints its stack. `cleanup` runs before exiting on an error.
 */
export function runTool(main: () => Promise<number | void>, cleanup?: () => void): void {
  const fail = (code: number) => {
    try {
      cleanup?.();
    } catch {
      // best effort: the error being reported matters more
    }
    process.exit(code);
  };
  main().then(
    (code) => process.exit(code ?? 0),
    (e: unknown) => {
      if (e instanceof UserError || (e as Error)?.name === 'SafetensorsError') {
        // Always one line: messages that carry a library's multi-line text are joined.
        const line = (e as Error).message.split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
        process.stderr.write(`\nerror: ${line}\n`);
        return fail(1);
      }
      const errno = e as NodeJS.ErrnoException;
      if (typeof errno?.code === 'string' && typeof errno.path === 'string') {
        process.stderr.write(`\nerror: ${fileError(e, errno.path, errno.syscall ?? 'access it').message}\n`);
        return fail(1);
      }
      process.stderr.write(`\ninternal error: ${(e as Error)?.stack ?? String(e)}\n`);
      fail(2);
    },
  );
}

/** yargs failure handler: one line, exit code 2. */
export function failLine(msg: string | null, err: Error | null): never {
  process.stderr.write(`error: ${msg ?? err?.message ?? 'invalid arguments'} (see --help)\n`);
  process.exit(2);
}
