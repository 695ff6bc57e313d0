// `Boxes`: the one container for axis-aligned boxes that travel between the detector's modules
// (mmdet 3's HorizontalBoxes plays this role). It owns an [N, 4] float32 tensor; whoever receives a
// Boxes (as a function's return value) disposes it, a Boxes passed as an argument is borrowed.
import * as tf from '@tensorflow/tfjs';

/**
 * N boxes as an [N, 4] float32 tensor of (x1, y1, x2, y2) in pixels of the image they refer to
 * (the resized network input for proposals and training targets). The tensor is owned: `dispose()`
 * frees it. A Boxes built from host values (`fromArray`) keeps that array, so the CPU steps that
 * need the coordinates (assignment, RoI level mapping) read them without a device read-back.
 */
export class Boxes {
  private host: Float32Array | null;

  /**
   * Takes ownership of `tensor` ([N, 4] float32). `host`, when given, must hold the same values
   * (row-major N*4) and is not copied: do not modify it afterwards. Throws a RangeError on another shape.
   */
  constructor(
    readonly tensor: tf.Tensor2D,
    host?: Float32Array,
  ) {
    if (tensor.rank !== 2 || tensor.shape[1] !== 4 || tensor.dtype !== 'float32') {
      throw new RangeError(`Boxes: expected an [N, 4] float32 tensor, got [${tensor.shape.join(', ')}] ${tensor.dtype}`);
    }
    if (host && host.length !== tensor.shape[0] * 4) throw new RangeError(`Boxes: host array of ${host.length} numbers for ${tensor.shape[0]} boxes`);
    this.host = host ?? null;
  }

  /** Boxes from a flat host array [N*4] (x1, y1, x2, y2, ...); the array is kept (not copied) as the host copy. */
  static fromArray(flat: Float32Array): Boxes {
    if (flat.length % 4 !== 0) throw new RangeError(`Boxes.fromArray: ${flat.length} numbers is not a multiple of 4`);
    return new Boxes(tf.tensor2d(flat, [flat.length / 4, 4], 'float32'), flat);
  }

  /** Concatenation of several Boxes in order (the inputs stay owned by the caller). */
  static concat(parts: readonly Boxes[]): Boxes {
    if (parts.length === 0) return Boxes.fromArray(new Float32Array(0));
    if (parts.length === 1) return new Boxes(tf.clone(parts[0].tensor), parts[0].host ?? undefined);
    return new Boxes(tf.concat(parts.map((p) => p.tensor), 0) as tf.Tensor2D);
  }

  /** Number of boxes N. */
  get length(): number {
    return this.tensor.shape[0];
  }

  get isDisposed(): boolean {
    return this.tensor.isDisposed;
  }

  /**
   * The boxes `indices` (into this container) as a new Boxes, gathered on the device: how training
   * targets (the GT box of every positive sample) are taken from the ground truth.
   */
  gather(indices: Int32Array): Boxes {
    const t = tf.tidy(() => tf.gather(this.tensor, tf.tensor1d(indices, 'int32')) as tf.Tensor2D);
    return new Boxes(t);
  }

  /** Flat host copy [N*4]: the kept host array, else one asynchronous read (works on every backend). */
  async array(): Promise<Float32Array> {
    if (!this.host) this.host = (await this.tensor.data()) as Float32Array;
    return this.host;
  }

  /**
   * Flat host copy [N*4], synchronously: the kept host array, else a synchronous read (cpu/wasm only;
   * use `array()` on webgpu).
   */
  arraySync(): Float32Array {
    if (!this.host) this.host = this.tensor.dataSync() as Float32Array;
    return this.host;
  }

  /** Frees the tensor (idempotent). */
  dispose(): void {
    if (!this.tensor.isDisposed) this.tensor.dispose();
  }
}
