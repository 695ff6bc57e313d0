/** Typed errors of the data side; tools print `message` as one line. */

/** Bad or missing data on disk: names the file and what was expected. */
export class DatasetError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'DatasetError';
  }
}

/** A dataset/pipeline config that does not match its type: names the transform/dataset and the field. */
export class DataConfigError extends Error {
  constructor(
    readonly where: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${where}.${field}: ${problem}`);
    this.name = 'DataConfigError';
  }
}
