// tools/confusion_matrix: confusion matrices drawn to PNG (rows: ground truth, columns: prediction,
// row-normalised percent as mmdetection's confusion_matrix.py plots them), with the counts as JSON.
//   tools/confusion_matrix det --gt instances_val.json --results results.bbox.json --out cm.png [--score-thr 0.3 --tp-iou-thr 0.5]
//   tools/confusion_matrix seg --gt-dir <dir> --pred-dir <dir> --num-classes N [--reduce-zero-label] --out cm.png
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../core/errors';
import { ProgressBar } from '../core/progress';
import { addSegConfusion, type ConfusionMatrix, detectionConfusionMatrix, normalizeRows } from '../evaluation/confusion_matrix';
import { readLabelPng } from '../evaluation/label_png';
import { writeChart } from '../visualization/plot';
import { failLine, runTool } from './lib/cli';

function readJson(path: string, what: string): unknown {
  if (!existsSync(path)) throw new UserError(`${path}: no such ${what} file`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new UserError(`${path}: not valid JSON (expected ${what})`);
  }
}

/** Vega-Lite heatmap of the row-normalised matrix, percentages written in the cells. */
function heatmapSpec(m: ConfusionMatrix, title: string): Record<string, unknown> {
  const pct = normalizeRows(m);
  const n = m.names.length;
  const values = [];
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) values.push({ gt: m.names[r], pred: m.names[c], pct: pct[r * n + c], label: pct[r * n + c] ? pct[r * n + c].toFixed(0) : '' });
  const cell = Math.max(14, Math.min(40, Math.floor(640 / n)));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    background: 'white',
    width: cell * n,
    height: cell * n,
    data: { values },
    encoding: {
      x: { field: 'pred', type: 'nominal', sort: m.names, title: 'Prediction', axis: { labelAngle: -45 } },
      y: { field: 'gt', type: 'nominal', sort: m.names, title: 'Ground Truth' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'pct', type: 'quantitative', scale: { scheme: 'blues', domain: [0, 100] }, title: '%' } } },
      ...(n <= 40 ? [{ mark: { type: 'text', fontSize: Math.max(7, cell / 3.5) }, encoding: { text: { field: 'label' }, color: { condition: { test: 'datum.pct > 50', value: 'white' }, value: 'black' } } }] : []),
    ],
  };
}

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/confusion_matrix')
    .usage('$0 <det|seg> [options] --out cm.png\n\nConfusion matrix of detection (COCO json results) or segmentation (PNG label maps) results, as mmdetection\'s confusion_matrix.py.')
    .command('det', 'detection: COCO ground truth + bbox results json (tools/eval --out)', (y) =>
      y
        .option('gt', { type: 'string', demandOption: true, describe: 'COCO instances json' })
        .option('results', { type: 'string', demandOption: true, describe: 'COCO bbox results json ([{image_id, category_id, bbox, score}])' })
        .option('score-thr', { type: 'number', default: 0.3, describe: 'detections below this score are not counted' })
        .option('tp-iou-thr', { type: 'number', default: 0.5, describe: 'IoU for a detection to match a ground-truth box' }),
    )
    .command('seg', 'semantic segmentation: two folders of PNG label maps (same file names)', (y) =>
      y
        .option('gt-dir', { type: 'string', demandOption: true, describe: 'ground-truth label maps' })
        .option('pred-dir', { type: 'string', demandOption: true, describe: 'predicted label maps' })
        .option('num-classes', { type: 'number', demandOption: true, describe: 'number of classes' })
        .option('reduce-zero-label', { type: 'boolean', default: false, describe: 'GT 0 ignored, other GT values minus 1 (ADE20K)' })
        .option('ignore-index', { type: 'number', default: 255, describe: 'GT value not counted' })
        .option('class-names', { type: 'string', describe: 'comma-separated names, or a .json list' }),
    )
    .option('out', { type: 'string', demandOption: true, describe: 'output .png (or .svg); the counts go to <out stem>.json' })
    .option('title', { type: 'string', default: 'Normalized Confusion Matrix', describe: 'chart title' })
    .demandCommand(1, 'give det or seg')
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  const a = argv as unknown as Record<string, string | number | boolean | undefined>;
  let m: ConfusionMatrix;
  if (argv._[0] === 'det') {
    for (const k of ['score-thr', 'tp-iou-thr']) if (!((a[k] as number) >= 0 && (a[k] as number) <= 1)) throw new UserError(`--${k}: expected a number in [0, 1], got ${a[k]}`);
    const gt = readJson(String(a.gt), 'COCO ground truth') as Parameters<typeof detectionConfusionMatrix>[0];
    if (!Array.isArray(gt?.images) || !Array.isArray(gt?.annotations) || !Array.isArray(gt?.categories)) throw new UserError(`${a.gt}: expected a COCO json with images, annotations and categories`);
    const res = readJson(String(a.results), 'COCO results');
    if (!Array.isArray(res)) throw new UserError(`${a.results}: expected a JSON list of {image_id, category_id, bbox, score}`);
    m = detectionConfusionMatrix(gt, res, { scoreThr: a['score-thr'] as number, tpIouThr: a['tp-iou-thr'] as number }, String(a.results));
  } else {
    const n = a['num-classes'] as number;
    if (!Number.isInteger(n) || n < 1) throw new UserError(`--num-classes: expected a positive integer, got ${n}`);
    const cn = a['class-names'] as string | undefined;
    const names = cn ? (cn.endsWith('.json') ? (readJson(cn, 'class names list') as string[]) : cn.split(',')) : Array.from({ length: n }, (_, k) => String(k));
    if (names.length !== n) throw new UserError(`--class-names: ${names.length} names given for --num-classes ${n}`);
    const gtDir = String(a['gt-dir']);
    const predDir = String(a['pred-dir']);
    if (!existsSync(gtDir)) throw new UserError(`--gt-dir ${gtDir}: no such folder`);
    const files = readdirSync(gtDir).filter((f) => f.toLowerCase().endsWith('.png')).sort();
    if (!files.length) throw new UserError(`--gt-dir ${gtDir}: no .png label maps`);
    const counts = new Float64Array(n * n);
    const bar = new ProgressBar(files.length, { label: 'confusion_matrix', unit: 'img' });
    for (const f of files) {
      if (!existsSync(join(predDir, f))) throw new UserError(`${join(predDir, f)}: missing prediction for ${join(gtDir, f)}`);
      const g = readLabelPng(join(gtDir, f));
      const p = readLabelPng(join(predDir, f));
      if (g.width !== p.width || g.height !== p.height) throw new UserError(`${join(predDir, f)}: ${p.width}x${p.height}, but the ground truth is ${g.width}x${g.height}`);
      addSegConfusion(counts, n, p.data, g.data, a['ignore-index'] as number, a['reduce-zero-label'] as boolean);
      bar.tick();
    }
    bar.finish();
    m = { names, counts };
  }
  const out = String(a.out);
  await writeChart(heatmapSpec(m, String(a.title)), out);
  const jsonPath = out.replace(/\.(png|svg)$/i, '') + '.json';
  const n = m.names.length;
  writeFileSync(jsonPath, `${JSON.stringify({ names: m.names, rows: 'ground truth', columns: 'prediction', counts: Array.from({ length: n }, (_, r) => Array.from(m.counts.subarray(r * n, (r + 1) * n))) })}\n`);
  console.log(`wrote ${out} and ${jsonPath} (${n}x${n}, ${m.counts.reduce((s, v) => s + v, 0)} counts)`);
});
