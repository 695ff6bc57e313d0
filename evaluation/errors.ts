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
