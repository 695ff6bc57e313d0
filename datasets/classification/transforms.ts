// Classification image transforms on RGB uint8 HWC images, as torchvision applies them to PIL images
// in the official TinyViM code (its data/datasets.py is DeiT's build_transform, see docs/classification.md):
//   eval:  Resize(int(size / crop_pct), BICUBIC) on the shorter side -> CenterCrop(size) -> ToTensor -> Normalize
//   train: RandomResizedCrop(size, scale (0.08, 1), ratio (3/4, 4/3), BICUBIC) -> RandomHorizontalFlip(0.5)
//          -> ToTensor -> Normalize -> RandomErasing(re_prob, mode 'pixel') (timm's create_transform;
//          RandAugment is not implemented)
// The output is a float32 HWC array (NHWC once batched: the layout the TinyViM backbone takes).
import type { Rng } from '../../core/rng';
import type { RgbImage } from '../io/image';
import { resizeBicubicPil } from './pil_resize';

/** timm IMAGENET_DEFAULT_MEAN / IMAGENET_DEFAULT_STD (RGB, on [0, 1] pixels). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** The transform fields of an `ImageNet` dataset config (same names, defaults resolved). */
export interface ClsTransformOptions {
  /** Square output side in pixels (the official --input-size, 224). */
  img_size: number;
  /** Eval: the shorter side is resized to floor(img_size / crop_pct) (DeiT: int(256 / 224 * size), i.e. 0.875). */
  crop_pct: number;
  mean: readonly number[];
  std: readonly number[];
  /** Training: timm RandomErasing probability (official --reprob 0.25); 0 or unset: off. */
  re_prob?: number;
}

/** Standard normal draw (Box-Muller) from our stream. */
function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * timm RandomErasing, mode 'pixel', one box, on a normalised float32 HWC image in place: with
 * probability `prob`, up to 10 tries for a box of area uniform(0.02, 1/3) x H*W and aspect
 * log-uniform in (0.3, 1/0.3) (sides rounded) that fits strictly inside; its pixels become N(0, 1)
 * draws per channel. Our RNG, so the draws differ from Python's.
 */
export function randomErasing(px: Float32Array, height: number, width: number, prob: number, rng: Rng): void {
  if (!(rng.next() < prob)) return;
  const area = height * width;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = rng.uniform(0.02, 1 / 3) * area;
    const aspect = Math.exp(rng.uniform(Math.log(0.3), Math.log(1 / 0.3)));
    const h = Math.round(Math.sqrt(target * aspect));
    const w = Math.round(Math.sqrt(target / aspect));
    if (w < width && h < height) {
      const top = rng.int(0, height - h + 1);
      const left = rng.int(0, width - w + 1);
      for (let y = top; y < top + h; y++) for (let x = left; x < left + w; x++) for (let c = 0; c < 3; c++) px[(y * width + x) * 3 + c] = gaussian(rng);
      return;
    }
  }
}

/** Python's round(): halves to even (torchvision's CenterCrop offsets use it). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** torchvision Resize(int) output size: shorter side -> `size`, longer side int(size * long / short). */
export function shorterSideSize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
  return { width: Math.trunc((size * width) / height), height: size };
}

/** Crops rows [top, top + h) and columns [left, left + w); the window must lie inside the image. */
export function crop(img: RgbImage, top: number, left: number, h: number, w: number): RgbImage {
  if (top < 0 || left < 0 || top + h > img.height || left + w > img.width) {
    throw new RangeError(`crop ${w}x${h} at (${left}, ${top}) falls outside a ${img.width}x${img.height} image`);
  }
  const out = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) out.set(img.data.subarray(((top + y) * img.width + left) * 3, ((top + y) * img.width + left + w) * 3), y * w * 3);
  return { data: out, width: w, height: h };
}

/** torchvision CenterCrop(size) (offsets round((H - size) / 2) with Python rounding); the image must be at least size x size. */
export function centerCrop(img: RgbImage, size: number): RgbImage {
  if (img.width < size || img.height < size) throw new RangeError(`centerCrop ${size}: image ${img.width}x${img.height} is smaller (torchvision would zero-pad; not supported)`);
  return crop(img, roundHalfEven((img.height - size) / 2), roundHalfEven((img.width - size) / 2), size, size);
}

/** ToTensor + Normalize: (pixel / 255 - mean) / std per channel, float32, HWC. */
export function normalizeHwc(img: RgbImage, mean: readonly number[], std: readonly number[]): Float32Array {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < img.data.length; i++) {
    const c = i % 3;
    out[i] = (Math.fround(img.data[i] / 255) - mean[c]) / std[c];
  }
  return out;
}

/** The eval transform (DeiT/timm): bicubic shorter-side resize to floor(size / crop_pct), center crop, normalise. Returns [size, size, 3] float32. */
export function evalTransform(img: RgbImage, o: ClsTransformOptions): Float32Array {
  const scaleSize = Math.floor(o.img_size / o.crop_pct);
  const target = shorterSideSize(img.width, img.height, scaleSize);
  const resized = target.width === img.width && target.height === img.height ? img : resizeBicubicPil(img, target.width, target.height);
  return normalizeHwc(centerCrop(resized, o.img_size), o.mean, o.std);
}

/**
 * Training transform: torchvision RandomResizedCrop(size, scale=(0.08, 1), ratio=(3/4, 4/3)) with
 * bicubic resampling (ten tries, then the central crop of the clamped ratio, as get_params), then a
 * horizontal flip with probability 0.5, then normalisation and, with `re_prob`, RandomErasing. Draws
 * from `rng` (our stream, not torch's).
 */
export function trainTransform(img: RgbImage, o: ClsTransformOptions, rng: Rng): Float32Array {
  const { width: W, height: H } = img;
  const area = W * H;
  let box: { top: number; left: number; h: number; w: number } | null = null;
  for (let attempt = 0; attempt < 10 && !box; attempt++) {
    const target = area * rng.uniform(0.08, 1);
    const aspect = Math.exp(rng.uniform(Math.log(3 / 4), Math.log(4 / 3)));
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && h > 0 && w <= W && h <= H) {
      box = { top: Math.floor(rng.next() * (H - h + 1)), left: Math.floor(rng.next() * (W - w + 1)), h, w };
    }
  }
  if (!box) {
    const ratio = W / H;
    let w = W;
    let h = H;
    if (ratio < 3 / 4) h = Math.round(w / (3 / 4));
    else if (ratio > 4 / 3) w = Math.round(h * (4 / 3));
    box = { top: Math.floor((H - h) / 2), left: Math.floor((W - w) / 2), h, w };
  }
  let out = resizeBicubicPil(crop(img, box.top, box.left, box.h, box.w), o.img_size, o.img_size);
  if (rng.next() < 0.5) {
    const d = new Uint8Array(out.data.length);
    for (let y = 0; y < out.height; y++) {
      for (let x = 0; x < out.width; x++) {
        const s = (y * out.width + x) * 3;
        const t = (y * out.width + (out.width - 1 - x)) * 3;
        d[t] = out.data[s];
        d[t + 1] = out.data[s + 1];
        d[t + 2] = out.data[s + 2];
      }
    }
    out = { ...out, data: d };
  }
  const px = normalizeHwc(out, o.mean, o.std);
  if (o.re_prob) randomErasing(px, o.img_size, o.img_size, o.re_prob, rng);
  return px;
}
