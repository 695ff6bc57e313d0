/**
 * collate: stacks samples into one NHWC batch padded (bottom/right, value 0) to the
 * largest image rounded up to size_divisor; label maps are padded with 255 (ignore).
 * Per-image metas and ground truth stay per image (masks keep each image's pad_shape,
 * as mmdet's cpu_only DataContainer does).
 */
import type { Batch, DetSample, Sample, SegSample } from './types';

export function collate(samples: Sample[], sizeDivisor = 32): Batch {
  if (samples.length === 0) throw new Error('collate: empty batch');
  const kind = samples[0].kind;
  if (samples.some((s) => s.kind !== kind)) throw new Error('collate: mixed detection and segmentation samples');
  let H = 0;
  let W = 0;
  for (const s of samples) {
    H = Math.max(H, s.shape[0]);
    W = Math.max(W, s.shape[1]);
  }
  if (sizeDivisor > 1) {
    H = Math.ceil(H / sizeDivisor) * sizeDivisor;
    W = Math.ceil(W / sizeDivisor) * sizeDivisor;
  }
  const N = samples.length;
  const data = new Float32Array(N * H * W * 3);
  samples.forEach((s, n) => {
    const [h, w] = s.shape;
    for (let y = 0; y < h; y++) data.set(s.img.subarray(y * w * 3, (y + 1) * w * 3), ((n * H + y) * W) * 3);
  });
  const shape: [number, number, number, number] = [N, H, W, 3];
  const metas = samples.map((s) => s.meta);
  if (kind === 'seg') {
    const segs = samples as SegSample[];
    const batch: Batch = { kind: 'seg', data, shape, metas };
    if (segs.every((s) => s.gt_semantic_seg)) {
      const seg = new Uint8Array(N * H * W).fill(255);
      segs.forEach((s, n) => {
        const [h, w] = s.shape;
        const g = s.gt_semantic_seg as Uint8Array;
        for (let y = 0; y < h; y++) seg.set(g.subarray(y * w, (y + 1) * w), (n * H + y) * W);
      });
      batch.gt_semantic_seg = seg;
    }
    return batch;
  }
  const det = samples as DetSample[];
  const batch: Batch = { kind: 'det', data, shape, metas };
  if (det.every((s) => s.gt_bboxes)) batch.gt_bboxes = det.map((s) => s.gt_bboxes as Float32Array);
  if (det.every((s) => s.gt_labels)) batch.gt_labels = det.map((s) => s.gt_labels as Int32Array);
  if (det.every((s) => s.gt_bboxes_ignore)) batch.gt_bboxes_ignore = det.map((s) => s.gt_bboxes_ignore as Float32Array);
  if (det.every((s) => s.gt_masks)) batch.gt_masks = det.map((s) => s.gt_masks as Uint8Array[]);
  return batch;
}

/** The ArrayBuffers a batch owns outright (safe to transfer between threads). */
export function batchBuffers(b: Batch): ArrayBuffer[] {
  const views: ArrayBufferView[] = [b.data];
  if (b.kind === 'seg') {
    if (b.gt_semantic_seg) views.push(b.gt_semantic_seg);
  } else {
    for (const l of [b.gt_bboxes, b.gt_labels, b.gt_bboxes_ignore]) if (l) views.push(...l);
    if (b.gt_masks) for (const m of b.gt_masks) views.push(...m);
  }
  const set = new Set<ArrayBuffer>();
  for (const v of views) {
    const buf = v.buffer;
    if (buf instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === buf.byteLength) set.add(buf);
  }
  return [...set];
}
