/**
 * The one label-map reader of the project (training/browse loader and tools/seg_eval alike), as
 * mmsegmentation 0.30 reads a label PNG: PIL `imfrombytes(flag='unchanged', backend='pillow')` then
 * `astype(np.uint8)`. That is the stored sample: the palette index for palette PNGs (never the
 * colour), 0/1 for 1-bit gray (PIL mode '1'), the stored value for 2/4/8-bit gray and for 16-bit gray.
 * A 16-bit value above 255 would wrap in numpy's uint8 cast; here it is an error naming file, value
 * and pixel. Gray+alpha keeps the gray sample. RGB/RGBA label PNGs are refused (mmseg would get a
 * 3-channel map and fail later).
 */
import { decodePngSamples, isPng } from './png_samples';

/** A label map: row-major HxW label values. */
export interface LabelMap {
  data: Uint8Array;
  height: number;
  width: number;
}

/** Decodes label-map PNG bytes; throws Error with a one-line reason (callers prefix the file). */
export function decodeLabelPng(buf: Uint8Array): LabelMap {
  if (!isPng(buf)) throw new Error('label map must be a PNG file');
  const png = decodePngSamples(buf);
  if (png.colorType === 2 || png.colorType === 6)
    throw new Error(`label map must be a gray or palette PNG holding label values (found ${png.colorType === 2 ? 'RGB' : 'RGBA'})`);
  const { width, height, channels } = png;
  const n = width * height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = png.data[i * channels];
    if (v > 255)
      throw new Error(`16-bit label value ${v} at pixel (x=${i % width}, y=${Math.floor(i / width)}) does not fit 8 bits (labels are 0..254, 255 = ignore)`);
    out[i] = v;
  }
  return { data: out, height, width };
}
