/** Drawing of finished samples for browsing (tools/browse_dataset): masks, boxes and labels, or colour-coded label maps. */
import sharp from 'sharp';
import type { Sample } from '../datasets/types';
import { labelColor } from './palette';

/** Undoes Normalize (when recorded) to RGB uint8 in display order. */
export function toDisplayRgb(s: Sample): Uint8Array {
  const n = s.meta.img_norm_cfg;
  const out = new Uint8Array(s.img.length);
  for (let p = 0; p < s.img.length; p += 3) {
    for (let c = 0; c < 3; c++) {
      const v = n ? s.img[p + c] * n.std[c] + n.mean[c] : s.img[p + c];
      out[p + (n && !n.to_rgb ? 2 - c : c)] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
    }
  }
  return out;
}

function rect(img: Uint8Array, w: number, h: number, b: ArrayLike<number>, rgb: number[], thick: number, dashed = false): void {
  const x1 = Math.max(0, Math.round(b[0])),
    y1 = Math.max(0, Math.round(b[1])),
    x2 = Math.min(w - 1, Math.round(b[2]) - 1),
    y2 = Math.min(h - 1, Math.round(b[3]) - 1);
  const put = (x: number, y: number) => {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    if (dashed && ((x + y) >> 2) % 2) return;
    img.set(rgb, (y * w + x) * 3);
  };
  for (let t = 0; t < thick; t++) {
    for (let x = x1; x <= x2; x++) {
      put(x, y1 + t);
      put(x, y2 - t);
    }
    for (let y = y1; y <= y2; y++) {
      put(x1 + t, y);
      put(x2 - t, y);
    }
  }
}

const esc = (t: string) => t.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Renders a sample to a PNG buffer. */
export async function renderSample(s: Sample, classes: readonly string[]): Promise<Buffer> {
  const [h, w] = s.shape;
  const img = toDisplayRgb(s);
  const texts: string[] = [];
  const fs = Math.max(10, Math.round(Math.min(h, w) / 40));
  let outW = w;
  let canvas = img;
  if (s.kind === 'det') {
    const masks = s.gt_masks ?? [];
    const labels = s.gt_labels ?? new Int32Array(0);
    masks.forEach((m, i) => {
      const c = labelColor(labels[i] ?? 0);
      for (let p = 0; p < m.length; p++)
        if (m[p]) for (let k = 0; k < 3; k++) img[p * 3 + k] = Math.round(img[p * 3 + k] * 0.45 + c[k] * 0.55);
    });
    const bb = s.gt_bboxes ?? new Float32Array(0);
    for (let i = 0; i < bb.length / 4; i++) {
      const c = labelColor(labels[i] ?? 0);
      rect(img, w, h, bb.subarray(i * 4, i * 4 + 4), c, Math.max(1, Math.round(fs / 6)));
      const name = classes[labels[i]] ?? String(labels[i]);
      texts.push(`<text x="${bb[i * 4] + 2}" y="${Math.max(fs, bb[i * 4 + 1] - 2)}" fill="rgb(${c.join(',')})" stroke="black" stroke-width="0.6">${esc(name)}</text>`);
    }
    const ig = s.gt_bboxes_ignore ?? new Float32Array(0);
    for (let i = 0; i < ig.length / 4; i++) {
      rect(img, w, h, ig.subarray(i * 4, i * 4 + 4), [255, 255, 255], 1, true);
      texts.push(`<text x="${ig[i * 4] + 2}" y="${ig[i * 4 + 3] - 2}" fill="white" stroke="black" stroke-width="0.6">crowd</text>`);
    }
  } else if (s.gt_semantic_seg) {
    // Image | colour-coded label map (255 = black) side by side.
    outW = w * 2;
    canvas = new Uint8Array(h * outW * 3);
    const seg = s.gt_semantic_seg;
    for (let y = 0; y < h; y++) {
      canvas.set(img.subarray(y * w * 3, (y + 1) * w * 3), y * outW * 3);
      for (let x = 0; x < w; x++) {
        const v = seg[y * w + x];
        const c = v === 255 ? [0, 0, 0] : labelColor(v);
        canvas.set(c, (y * outW + w + x) * 3);
      }
    }
    const present = [...new Set(seg)].filter((v) => v !== 255).sort((a, b) => a - b);
    present.forEach((v, i) => {
      const c = labelColor(v);
      texts.push(`<text x="${w + 4}" y="${(i + 1) * (fs + 2)}" fill="rgb(${c.join(',')})" stroke="black" stroke-width="0.6">${esc(classes[v] ?? String(v))}</text>`);
    });
  }
  let im = sharp(Buffer.from(canvas.buffer, canvas.byteOffset, canvas.length), { raw: { width: outW, height: h, channels: 3 } });
  if (texts.length) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${outW}" height="${h}" font-family="DejaVu Sans, sans-serif" font-size="${fs}" font-weight="bold">${texts.join('')}</svg>`;
    im = im.composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
  }
  return im.png().toBuffer();
}
