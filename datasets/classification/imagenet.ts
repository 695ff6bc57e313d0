// The `ImageNet` classification dataset: torchvision ImageFolder's folder layout or an mmpretrain-style
// list file, with the official TinyViM (DeiT) train/eval transforms, and its batch loader.
//   folder layout: <data_prefix>/<wnid>/**/<image>, class index = position of the folder name in the
//                  sorted folder names, files in sorted os.walk order, extensions IMG_EXTENSIONS
//   list file:     <ann_file> lines `relative/path.JPEG <label>` (paths relative to data_prefix)
// Batches are { inputs: [B, size, size, 3] float32 NHWC, labels, indices }.
import { readdirSync, readFileSync, statSync } from '#platform/fs';
import { extname, join } from '#platform/path';
import * as tf from '@tensorflow/tfjs';
import sharp from '#platform/sharp';
import { Rng } from '../../core/rng';
import type { BuiltDataset, DataLoader as LoaderContract, LoaderOptions } from '../../core/registry';
import { DatasetError } from '../errors';
import type { RgbImage } from '../io/image';
import { epochOrder } from '../loader';
import { type ClsTransformOptions, IMAGENET_MEAN, IMAGENET_STD, evalTransform, trainTransform } from './transforms';

/** torchvision.datasets.folder.IMG_EXTENSIONS (matched case-insensitively, as has_file_allowed_extension). */
export const IMG_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'] as const;

/** Python's sorted() order on str (code points; equal to UTF-16 order outside astral planes). */
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface ClsSamples {
  /** Absolute or data-root-relative image paths, in dataset order. */
  paths: string[];
  labels: Int32Array;
  /** Class names by index (folder names for the folder layout). */
  classes: string[];
}

/** Every directory under `dir` (itself included), sorted by path as Python's sorted(os.walk(dir)). */
function walkDirs(dir: string): string[] {
  const out = [dir];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() || (e.isSymbolicLink() && statSync(p).isDirectory())) out.push(...walkDirs(p));
  }
  return out.sort(byCodePoint);
}

/**
 * Scans an ImageFolder layout (torchvision find_classes + make_dataset): class folders sorted by
 * name; in each, sub-folders in sorted path order and files sorted by name; only IMG_EXTENSIONS.
 * Throws DatasetError when the folder is missing, has no class folder, or a class has no image.
 */
export function scanImageFolder(root: string): ClsSamples {
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    throw new DatasetError(root, 'data_prefix folder not found (expected <data_prefix>/<class>/<image>)');
  }
  const classes = entries.filter((e) => e.isDirectory() || (e.isSymbolicLink() && statSync(join(root, e.name)).isDirectory())).map((e) => e.name).sort(byCodePoint);
  if (!classes.length) throw new DatasetError(root, 'no class folders found (expected <data_prefix>/<class>/<image>)');
  const paths: string[] = [];
  const labels: number[] = [];
  const empty: string[] = [];
  classes.forEach((c, label) => {
    const before = paths.length;
    for (const d of walkDirs(join(root, c))) {
      const files = readdirSync(d, { withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => e.name).sort(byCodePoint);
      for (const f of files) {
        if ((IMG_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase())) {
          paths.push(join(d, f));
          labels.push(label);
        }
      }
    }
    if (paths.length === before) empty.push(c);
  });
  if (empty.length) throw new DatasetError(root, `found no valid image file for the classes ${empty.join(', ')} (supported extensions: ${IMG_EXTENSIONS.join(', ')})`);
  return { paths, labels: Int32Array.from(labels), classes };
}

/**
 * Reads a list file (`<path> <label>` per line, blank lines skipped; paths relative to `prefix`).
 * `classes` names the labels; without it the names are the label numbers 0..max. Throws DatasetError
 * naming the file and line on a malformed line or a label outside the class list.
 */
export function readListFile(file: string, prefix: string, classes?: readonly string[]): ClsSamples {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new DatasetError(file, 'ann_file not found (expected lines `<path> <label>`)');
  }
  const paths: string[] = [];
  const labels: number[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t) return;
    const m = /^(.*\S)\s+(-?\d+)$/.exec(t);
    if (!m) throw new DatasetError(file, `line ${i + 1}: expected '<path> <label>', got '${t}'`);
    const label = Number(m[2]);
    if (label < 0 || (classes && label >= classes.length)) throw new DatasetError(file, `line ${i + 1}: label ${label} is outside 0..${classes ? classes.length - 1 : 'inf'}`);
    paths.push(join(prefix, m[1]));
    labels.push(label);
  });
  if (!paths.length) throw new DatasetError(file, 'the list file has no samples');
  const n = classes ? classes.length : Math.max(...labels) + 1;
  return { paths, labels: Int32Array.from(labels), classes: classes ? [...classes] : Array.from({ length: n }, (_, i) => String(i)) };
}

/**
 * Decodes an image file to RGB uint8 HWC as torchvision's pil_loader (Image.open(f).convert('RGB')):
 * no EXIF rotation (PIL's loader does not apply it), alpha dropped, grey replicated to RGB.
 * CMYK JPEGs go through libvips's colour management, which differs from PIL's plain conversion.
 * Throws DatasetError naming the file when it cannot be decoded.
 */
export async function loadRgbLikePil(file: string): Promise<RgbImage> {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    throw new DatasetError(file, 'image file not found');
  }
  try {
    const { data, info } = await sharp(buf, { failOn: 'error' }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    throw new DatasetError(file, `cannot decode image: ${(e as Error).message}`);
  }
}

/**
 * One batch: images NHWC float32 [B, size, size, 3], their labels and dataset indices (also as
 * `metas[i].index`: distributed evaluation forwards only the batch metas to the evaluator).
 */
export class ClsBatch {
  readonly metas: { index: number }[];
  constructor(
    readonly inputs: tf.Tensor4D,
    readonly labels: Int32Array,
    readonly indices: number[],
  ) {
    this.metas = indices.map((index) => ({ index }));
  }
  dispose(): void {
    this.inputs.dispose();
  }
}

/** What the Accuracy evaluator reads: the ground-truth labels and the class names. */
export interface ClsGtSource {
  labels: Int32Array;
  classes: readonly string[];
}

/** The dataset's settings: the `ImageNet` config's transform fields with defaults resolved. */
export interface ImageNetOptions extends ClsTransformOptions {
  /** true: eval transform (resize + center crop); false: the random training transform. */
  test_mode: boolean;
}

/** An ImageNet-style dataset as the engine sees it (BuiltDataset), scored by the 'Accuracy' evaluator. */
export class ImageNetDataset implements BuiltDataset<ClsBatch> {
  readonly evaluator = 'Accuracy';
  readonly raw: ClsGtSource & { paths: string[] };
  constructor(
    samples: ClsSamples,
    readonly opts: ImageNetOptions,
  ) {
    this.raw = { labels: samples.labels, classes: samples.classes, paths: samples.paths };
  }
  get length(): number {
    return this.raw.paths.length;
  }
  /** The transformed sample `i` as float32 HWC, with its label. `seed` drives the training transform. */
  async sample(i: number, seed: number): Promise<{ pixels: Float32Array; label: number }> {
    const img = await loadRgbLikePil(this.raw.paths[i]);
    const pixels = this.opts.test_mode ? evalTransform(img, this.opts) : trainTransform(img, this.opts, new Rng(seed));
    return { pixels, label: this.raw.labels[i] };
  }
  loader(opts: LoaderOptions): ClsLoader {
    return new ClsLoader(this, opts);
  }
}

/** Batches of an ImageNetDataset: (seed, epoch) shuffling or the distributed sampler's order; decoding is sequential. */
export class ClsLoader implements LoaderContract<ClsBatch> {
  private epoch = 0;
  private start = 0;
  constructor(
    readonly dataset: ImageNetDataset,
    readonly opts: LoaderOptions,
  ) {
    if (!(opts.batchSize >= 1)) throw new RangeError('ClsLoader: batchSize must be >= 1');
  }
  get length(): number {
    const n = this.opts.sampler ? this.opts.sampler.length : this.dataset.length;
    return this.opts.dropLast ? Math.floor(n / this.opts.batchSize) : Math.ceil(n / this.opts.batchSize);
  }
  setEpoch(epoch: number): void {
    this.epoch = epoch;
  }
  startAt(index: number): void {
    this.start = index;
  }
  async *[Symbol.asyncIterator](): AsyncIterator<ClsBatch> {
    const order = this.opts.sampler ? this.opts.sampler.indices(this.epoch) : epochOrder(this.dataset.length, this.opts.shuffle, this.opts.seed, this.epoch);
    const bs = this.opts.batchSize;
    const first = this.start;
    this.start = 0;
    const size = this.dataset.opts.img_size;
    for (let b = first; b < this.length; b++) {
      const idx = Array.from(order.subarray(b * bs, Math.min((b + 1) * bs, order.length)));
      const buf = new Float32Array(idx.length * size * size * 3);
      const labels = new Int32Array(idx.length);
      for (let j = 0; j < idx.length; j++) {
        const s = await this.dataset.sample(idx[j], Rng.derive(this.opts.seed, this.epoch, idx[j]));
        buf.set(s.pixels, j * size * size * 3);
        labels[j] = s.label;
      }
      yield new ClsBatch(tf.tensor4d(buf, [idx.length, size, size, 3]), labels, idx);
    }
  }
}

/** The config of an `ImageNet` dataset (mmpretrain field names where they exist). */
export interface ImageNetConfig {
  data_prefix: string;
  data_root?: string;
  ann_file?: string;
  classes?: string[];
  test_mode?: boolean;
  img_size?: number;
  crop_pct?: number;
  mean?: number[];
  std?: number[];
  /** Training only: RandomErasing probability (timm re_prob; official 0.25). */
  re_prob?: number;
}

/** Builds the dataset from its config: the list file when ann_file is set, else the folder layout. */
export function buildImageNet(cfg: ImageNetConfig): ImageNetDataset {
  const root = cfg.data_root ?? '';
  const prefix = join(root, cfg.data_prefix);
  const samples = cfg.ann_file ? readListFile(join(root, cfg.ann_file), prefix, cfg.classes) : scanImageFolder(prefix);
  if (cfg.classes && !cfg.ann_file && cfg.classes.length !== samples.classes.length) {
    throw new DatasetError(prefix, `classes lists ${cfg.classes.length} names but the folder has ${samples.classes.length} class folders`);
  }
  if (cfg.classes) samples.classes = [...cfg.classes];
  return new ImageNetDataset(samples, {
    test_mode: cfg.test_mode ?? false,
    img_size: cfg.img_size ?? 224,
    crop_pct: cfg.crop_pct ?? 0.875,
    mean: cfg.mean ?? [...IMAGENET_MEAN],
    std: cfg.std ?? [...IMAGENET_STD],
    re_prob: cfg.re_prob ?? 0,
  });
}

