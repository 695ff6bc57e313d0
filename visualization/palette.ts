// The one palette of the project: label k always gets the same colour, whether drawn by
// browse_dataset, tools/eval --show-dir (detections or label maps) or the demos.

/** Distinct RGB colour of label k (golden-angle hue walk, so any number of classes stays distinct). */
export function labelColor(k: number): [number, number, number] {
  const h = (k * 137.508) % 360;
  const f = (n: number) => {
    const a = 0.75 * Math.min(0.5, 1 - 0.5);
    const kk = (n + h / 30) % 12;
    return Math.round(255 * (0.5 - a * Math.max(-1, Math.min(kk - 3, 9 - kk, 1))));
  };
  return [f(0), f(8), f(4)];
}
