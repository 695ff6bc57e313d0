// Charts as PNG files without a browser or native build: a Vega-Lite spec compiled to Vega, rendered
// headless to SVG by vega's View (renderer 'none'), rasterised by sharp (librsvg, already a
// dependency). Used by tools/analyze_logs (curves) and tools/confusion_matrix (heatmaps).
import * as vega from 'vega';
import * as vl from 'vega-lite';
import sharp from 'sharp';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** SVG text of a Vega-Lite spec (no network: data must be inline `values`). */
export async function vegaLiteToSvg(spec: Record<string, unknown>): Promise<string> {
  const compiled = vl.compile(spec as unknown as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders `spec` to `out`: PNG (density `scale` x 72 dpi) or, for a `.svg` name, the SVG itself. Returns the path. */
export async function writeChart(spec: Record<string, unknown>, out: string, scale = 2): Promise<string> {
  const svg = await vegaLiteToSvg(spec);
  mkdirSync(dirname(out) || '.', { recursive: true });
  if (out.toLowerCase().endsWith('.svg')) writeFileSync(out, svg);
  else writeFileSync(out, await sharp(Buffer.from(svg), { density: 72 * scale }).png().toBuffer());
  return out;
}
