// tools/benchmark: one entry point for every measurement; each part is its own tool with its own flags.
//   tools/benchmark backbone  --model TinyViM_S --head cls --shape 224 224 --batch 8 --backend wasm
//   tools/benchmark backbone  --model TinyViM_B --mode train --shape 800 1344 --batch 2 --backend webgpu
//   tools/benchmark detector  --config configs/mask_rcnn/mask_rcnn_tinyvim_s_fpn_1x_coco.ts --mode train
//   tools/benchmark segmentor --config configs/sem_fpn/fpn_tinyvim_s_ade20k_40k.ts --mode train
//   tools/benchmark profile   --config <cfg> --mode train|infer --backend webgpu [--top 20] [--json out.json]
//   tools/benchmark data      (also: tools/benchmark --data)
//   tools/benchmark coco-eval (pycocotools comparison on a val2017-sized problem)
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PARTS: Record<string, string> = {
  backbone: 'benchmark_backbone.ts',
  detector: 'benchmark_detector.ts',
  segmentor: 'benchmark_segmentor.ts',
  profile: 'benchmark_profile.ts',
  data: 'benchmark_data.ts',
  'coco-eval': 'bench_coco_eval.ts',
};

const args = process.argv.slice(2);
let part = args[0];
let rest = args.slice(1);
if (part === '--data') part = 'data';
if (!part || part === '--help' || part === '-h' || !(part in PARTS)) {
  const usage = `usage: tools/benchmark <${Object.keys(PARTS).join('|')}> [options]   (tools/benchmark <part> --help lists a part's options)`;
  if (part && part !== '--help' && part !== '-h') {
    console.error(`error: unknown benchmark part '${part}'; ${usage}`);
    process.exit(2);
  }
  console.log(usage);
  process.exit(0);
}
if (args[0] === '--data') rest = args.slice(1);
const script = join(dirname(fileURLToPath(import.meta.url)), PARTS[part]);
const r = spawnSync(process.execPath, [...process.execArgv, script, ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
