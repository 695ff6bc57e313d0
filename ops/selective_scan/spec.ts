// Names, inputs and attributes of the selective-scan kernels, shared by every backend's implementation.
import type * as tf from '@tensorflow/tfjs';
import { type ScanDims, checkScanDims } from './cpu';

type TI = tf.TensorInfo;
type Inputs = Record<string, TI>;

export const SCAN_KERNEL = 'TinyViMSelectiveScan';
export const SCAN_GRAD_KERNEL = 'TinyViMSelectiveScanGrad';
/** Input names, in the order every kernel and program of the scan expects them. */
export const SCAN_INPUT_NAMES = ['u', 'delta', 'A', 'B', 'C', 'D', 'deltaBias'] as const;

export interface ScanKernelAttrs {
  deltaSoftplus: boolean;
}

/** Dimensions from the kernel inputs' shapes (the op has validated them). */
export function scanDimsOf(inputs: Inputs): ScanDims {
  const [batch, channels, length] = inputs.u.shape;
  const [, groups, dState] = inputs.B.shape;
  const d = { batch, channels, groups, length, dState };
  checkScanDims(d);
  return d;
}

export function orderedInputs(inputs: Inputs, withDy: boolean): TI[] {
  const list = SCAN_INPUT_NAMES.map((n) => {
    const t = inputs[n];
    if (!t) throw new Error(`${SCAN_KERNEL}: input '${n}' is missing`);
    return t;
  });
  if (withDy) {
    if (!inputs.dy) throw new Error(`${SCAN_GRAD_KERNEL}: input 'dy' is missing`);
    list.push(inputs.dy);
  }
  return list;
}

