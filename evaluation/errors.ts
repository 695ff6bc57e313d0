// Typed errors of the evaluation library. Tools turn them into one-line messages.

/** Bad input data: a file, a field or a value that does not have the expected form. */
export class EvalInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalInputError';
  }
}

/** A result set that pycocotools' loadRes rejects (e.g. image ids absent from the GT). */
export class ResultsMismatchError extends EvalInputError {
  constructor(message: string) {
    super(message);
    this.name = 'ResultsMismatchError';
  }
}

/**
 * Two RLEs of one size whose counts do not both sum to h*w: pycocotools' merge and IoU loops never
 * finish on such a pair (the shorter one stops advancing). `which` says which input ran out first
 * (not necessarily the wrong one: the other may hold too many pixels).
 */
export class RleCountsError extends EvalInputError {
  constructor(
    message: string,
    readonly which: 'a' | 'b',
    /** Set by iouRle: the pair's detection and GT index. */
    readonly at: { dt?: number; gt?: number } = {},
  ) {
    super(message);
    this.name = 'RleCountsError';
  }
}
