// The one class palette of every drawing (detections, segmentation overlays, browse_dataset,
// confusion matrices' class axes): a golden-angle hue walk, so any number of classes gets
// distinct, stable colours and label k has the same colour in every tool.

/** RGB colour of class `k` (k >= 0). */
export function labelColor(k: number): [number, number, number] {
  const h = (k * 137.508) % 360;
  const f = (n: number) => {
    const a = 0.375; // saturation 0.75 at lightness 0.5 (HSL)
    const kk = (n + h / 30) % 12;
    return Math.round(255 * (0.5 - a * Math.max(-1, Math.min(kk - 3, 9 - kk, 1))));
  };
  return [f(0), f(8), f(4)];
}
