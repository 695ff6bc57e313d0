// Shared by the benchmark tools: robust statistics and the common flag checks.
import { UserError } from '../../core/errors';

export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const mb = (bytes: number): number => bytes / 2 ** 20;

/** --warmup must be a non-negative integer, --runs a positive one. */
export function checkRunCounts(argv: { warmup: number; runs: number }): void {
  if (!Number.isInteger(argv.warmup) || argv.warmup < 0) throw new UserError('--warmup: expected a non-negative integer');
  if (!Number.isInteger(argv.runs) || argv.runs < 1) throw new UserError('--runs: expected a positive integer');
}
