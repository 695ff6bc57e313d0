// Shared plumbing of the CLIs (tools/*.ts): error reporting, backend selection, registration of model/dataset/evaluator types.
import { BACKEND_CHOICES, type BackendRequest, describeBackend, selectBackend } from '../../ops/backend';
import { UserError } from '../../core/errors';

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
 * Runs a CLI main function: user errors (bad config, checkpoint, flags, backend) print one line and
 * exit 1; anything else is a bug and prints its stack.
 */
export function runTool(main: () => Promise<number | void>): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (e: unknown) => {
      if (e instanceof UserError || (e as Error)?.name === 'SafetensorsError') {
        process.stderr.write(`\nerror: ${(e as Error).message}\n`);
        process.exit(1);
      }
      process.stderr.write(`\ninternal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(2);
    },
  );
}

/** yargs failure handler: one line, exit code 2. */
export function failLine(msg: string | null, err: Error | null): never {
  process.stderr.write(`error: ${msg ?? err?.message ?? 'invalid arguments'} (see --help)\n`);
  process.exit(2);
}
