// Reads a PNG label map as stored label values through the project's one label reader
// (fileio/label_map.ts: palette index, 1/2/4/8/16-bit gray sample, as mmsegmentation reads them),
// with errors as EvalInputError naming the file.

import { readFileSync } from '#platform/fs';
import { decodeLabelPng } from '../fileio/label_map';
import { EvalInputError } from './errors';

export interface LabelMap {
  width: number;
  height: number;
  /** Row-major label values. */
  data: Uint8Array;
}

/** Reads a label PNG; throws EvalInputError `<path>: <reason>` for unreadable or unsupported files. */
export function readLabelPng(path: string): LabelMap {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new EvalInputError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return decodeLabelPng(buf);
  } catch (e) {
    throw new EvalInputError(`${path}: ${(e as Error).message}`);
  }
}
