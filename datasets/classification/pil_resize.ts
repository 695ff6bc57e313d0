// Bicubic resampling of uint8 RGB images with Pillow's semantics (libImaging/Resample.c, Pillow >= 7):
// separable, horizontal pass first, the cubic kernel (a = -0.5) widened by the downscale factor
// (antialiasing, support 2 * max(scale, 1)), coefficients normalised per output pixel and turned into
// 22-bit fixed point, each pass rounded and clamped to uint8. torchvision's Resize on PIL images
// calls Image.resize(size, BICUBIC), which is this function; we follow Resample.c's arithmetic step
// by step (written from its description, not copied), so results should be identical to Pillow's for
// the same decoded pixels. Not checked against Pillow on this machine (no Python imaging here).
import type { RgbImage } from '../io/image';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;

/** Pillow's bicubic filter with a = -0.5 (support 2). */
function bicubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

interface Coeffs {
  /** First input index of each output pixel. */
  xmin: Int32Array;
  /** Taps of each output pixel. */
  xsize: Int32Array;
  /** Fixed-point weights, `ksize` per output pixel. */
  k: Float64Array;
  ksize: number;
}

/** Resample.c precompute_coeffs + normalize_coeffs_8bpc for one axis (in: inSize pixels, out: outSize). */
function coefficients(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const xmin = new Int32Array(outSize);
  const xsize = new Int32Array(outSize);
  const k = new Float64Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    // C's (int) cast truncates toward zero.
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - lo;
    let total = 0;
    for (let x = 0; x < n; x++) {
      w[x] = bicubic((x + lo - center + 0.5) * ss);
      total += w[x];
    }
    for (let x = 0; x < ksize; x++) {
      const v = x < n && total !== 0 ? w[x] / total : 0;
      // normalize_coeffs_8bpc: round half away from zero into fixed point.
      k[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    xmin[xx] = lo;
    xsize[xx] = n;
  }
  return { xmin, xsize, k, ksize };
}

/** Resample.c clip8: fixed-point accumulator to uint8. */
function clip8(v: number): number {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / ONE);
}

/**
 * Resizes an RGB uint8 HWC image to `outWidth` x `outHeight` as Pillow's `Image.resize((w, h),
 * Image.BICUBIC)`. Returns the input itself when the size is unchanged (Pillow copies).
 * Throws RangeError for non-positive sizes.
 */
export function resizeBicubicPil(img: RgbImage, outWidth: number, outHeight: number): RgbImage {
  if (!(outWidth >= 1 && outHeight >= 1)) throw new RangeError(`resizeBicubicPil: output size ${outWidth}x${outHeight} must be positive`);
  let cur = img;
  if (outWidth !== img.width) {
    const c = coefficients(img.width, outWidth);
    const out = new Uint8Array(img.height * outWidth * 3);
    for (let y = 0; y < img.height; y++) {
      const row = y * img.width * 3;
      for (let xx = 0; xx < outWidth; xx++) {
        const base = c.xmin[xx];
        for (let ch = 0; ch < 3; ch++) {
          let acc = ONE / 2;
          for (let x = 0; x < c.xsize[xx]; x++) acc += cur.data[row + (base + x) * 3 + ch] * c.k[xx * c.ksize + x];
          out[(y * outWidth + xx) * 3 + ch] = clip8(acc);
        }
      }
    }
    cur = { data: out, width: outWidth, height: img.height };
  }
  if (outHeight !== img.height) {
    const c = coefficients(img.height, outHeight);
    const w = cur.width;
    const out = new Uint8Array(outHeight * w * 3);
    for (let yy = 0; yy < outHeight; yy++) {
      const base = c.xmin[yy];
      for (let x = 0; x < w; x++) {
        for (let ch = 0; ch < 3; ch++) {
          let acc = ONE / 2;
          for (let y = 0; y < c.xsize[yy]; y++) acc += cur.data[((base + y) * w + x) * 3 + ch] * c.k[yy * c.ksize + y];
          out[(yy * w + x) * 3 + ch] = clip8(acc);
        }
      }
    }
    cur = { data: out, width: w, height: outHeight };
  }
  return cur;
}
