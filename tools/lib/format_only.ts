// `tools/eval --format-only`: inference and result files without scoring, for benchmark servers
// (COCO test-dev: the image_info file has no annotations), as mmdet's test.py --format-only.
import type { EvaluationReport, Evaluator } from '../../core/registry';
import { UserError } from '../../core/errors';

/**
 * An evaluator that collects results through `inner` but never scores them: evaluate() returns no
 * metrics. Throws UserError when `inner` cannot write result files or `out` is missing.
 */
export function formatOnlyEvaluator<B, R>(inner: Evaluator<B, R>, out: string | undefined, configFile: string): Evaluator<B, R> {
  if (!out) throw new UserError('--format-only needs --out <results.json> (the submission files are written there)');
  if (!inner.writeResults) throw new UserError(`--format-only: the evaluator of ${configFile} writes no results files`);
  return {
    reset: () => inner.reset(),
    process: (b, o) => inner.process(b, o),
    evaluate: (): EvaluationReport => ({ metrics: {}, text: 'format-only: results written, not evaluated' }),
    writeResults: (o, header, report) => inner.writeResults!(o, header, report),
  };
}
