/** Typed errors of the data side; tools print `message` alone (they are UserErrors). */
import { ConfigError, UserError } from '../core/errors';

/** Bad or missing data on disk: names the file and what was expected. */
export class DatasetError extends UserError {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** A dataset/pipeline config that does not match its type: names the transform/dataset and the field. */
export class DataConfigError extends ConfigError {
  constructor(
    readonly where: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${where}.${field}: ${problem}`, field);
  }
}
