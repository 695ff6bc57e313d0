#!/usr/bin/env bash
# Data-parallel scaling of Mask R-CNN TinyViM-S training on one host's GPUs (issue 16), for the GPU
# machine: the recipe config on a synthetic COCO-layout set at 1333x800 (tools/make_dataset), one epoch,
# first with one process (1 GPU x batch 2), then `mpirun -np N` (N GPUs x batch 2), both on webgpu.
# Reports images/s from the logged iteration times (the first 2 logged intervals are warm-up) and the
# scaling efficiency = img/s(N) / (N x img/s(1)); each rank's GPU (PCI bus id) is in its log.
# Here: bash tools/devpack.sh && bash tools/devpack_dist.sh; on the device (carry .devpack):
#   bash tools/gpu_dist_bench.sh [N=2] [images=48]
set -uo pipefail
cd "$(dirname "$0")/.."
source .devpack/setup.sh
source .devpack/dist_setup.sh
OUT=${OUT:-/tmp/gpu_dist_out}; mkdir -p "$OUT"
N=${1:-2}; IMAGES=${2:-48}
nvidia-smi --query-gpu=index,name,pci.bus_id --format=csv | tee "$OUT/dist_gpus.txt"
data=/tmp/dist_coco
tools/make_dataset shapes-coco --out $data --train "$IMAGES" --val 2 --width 1333 --height 800 | tail -1
opts=(runner.max_epochs=1 log_config.interval=2 evaluation.interval=1000 checkpoint_config.interval=1000
  data.train.ann_file=$data/annotations/instances_train.json data.train.img_prefix=$data/train/
  data.val.ann_file=$data/annotations/instances_val.json data.val.img_prefix=$data/val/
  data.test.ann_file=$data/annotations/instances_val.json data.test.img_prefix=$data/val/)
cfg=configs/mask_rcnn/mask_rcnn_tinyvim_s_fpn_1x_coco.ts
echo "-- 1 process x batch 2"
timeout 260 tools/train --config $cfg --backend webgpu --work-dir /tmp/dist_w1 --cfg-options "${opts[@]}" >"$OUT/dist_1.log" 2>&1; echo "exit $?"
echo "-- mpirun -np $N x batch 2"
timeout 260 mpirun --allow-run-as-root -np "$N" --bind-to none tools/train --config $cfg --backend webgpu --launcher mpi --work-dir /tmp/dist_w$N --cfg-options "${opts[@]}" >"$OUT/dist_$N.log" 2>&1; echo "exit $?"
grep -h -i "gpu\|adapter\|error" "$OUT/dist_$N.log" | head -8
node -e '
const fs = require("fs"), path = require("path");
const rate = (dir, ranks) => {
  const f = fs.readdirSync(dir).filter((x) => x.endsWith(".log.json")).sort().pop();
  if (!f) return null;
  const rows = fs.readFileSync(path.join(dir, f), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.mode === "train" && typeof r.time === "number");
  const use = rows.slice(2);
  if (!use.length) return null;
  const t = use.reduce((a, r) => a + r.time, 0) / use.length;
  return { sPerIter: t, imgPerS: (2 * ranks) / t, intervals: use.length };
};
const n = Number(process.argv[1]);
const one = rate("/tmp/dist_w1", 1), many = rate("/tmp/dist_w" + n, n);
const res = { one, many, ranks: n, efficiency: one && many ? many.imgPerS / (n * one.imgPerS) : null };
console.log(JSON.stringify(res));
fs.writeFileSync(process.env.OUT + "/dist_scaling.json", JSON.stringify(res, null, 1));
' "$N"
