#!/usr/bin/env bash
# The GPU figures of issue 10 in one run on the GPU machine (webgpu, fp32, random weights):
#   1. TinyViM-B backbone train step, 2x800x1344 (forward + backward of the sum of the 4 outputs)
#   2. Mask R-CNN TinyViM-S recipe train step, batch 2, 1333x800, AdamW
#   3. Semantic FPN TinyViM-S recipe train step, batch 4, 512x512, AdamW
#   4. TinyViM-S classification, fused, 224x224, batch 256 (img/s)
#   5. Mask R-CNN TinyViM-S inference, 1333x800, batch 1 (img/s)
#   2b. step 2 again with the op-by-op optimizer (TVD_FUSED_OPTIMIZER=0): the fused update's gain
#   6. per-kernel profiles (top 10) of 1 and 2, each its own process, after every timed run.
# GPU_BENCH_SET=final: every issue 10/11 figure, the cache-off and 256-per-submit switches, both demos.
# GPU_BENCH_SET=host: host-side figures and V8 profiles after the dispatch cache, plus inference.
# GPU_BENCH_SET=quick: the four train figures (+ the backbone without the dispatch cache), the demo, one profile.
# GPU_BENCH_SET=demo: host CPU profiles (--cpu-prof) of two train steps and both demos on webgpu.
# GPU_BENCH_SET=infer runs the inference figures of issue 11 instead: Mask R-CNN TinyViM-S/B at
# 1333x800, batch 1/2/4 (img/s), Semantic FPN TinyViM-B 512x512 batch 1/8, and `npm run demo` on webgpu.
# Every timed run uses tools/lib/bench.ts (no profiling, one one-element read per block of steps).
#
# Here: bash tools/devpack.sh (writes .devpack/, ignored by git). Then with the device tool, from the repo
# root, carrying .devpack:   bash tools/gpu_bench.sh
# Results: $OUT/gpu_bench.txt (everything printed) and one JSON per run in $OUT ($OUT defaults to
# ./gpu_bench_out). GPU_BENCH_BUDGET_S (default 470) bounds the whole script: each run gets its own
# timeout, cut to what is left of the budget, and runs that no longer fit are skipped and say so.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
budget=${GPU_BENCH_BUDGET_S:-470}
source .devpack/setup.sh
out=${OUT:-$PWD/gpu_bench_out}
mkdir -p "$out"
log="$out/gpu_bench.txt"
: > "$log"
say() { echo "$*" | tee -a "$log"; }

say "== gpu_bench $(date -u +%FT%TZ), git HEAD of the device copy $(git rev-parse --short HEAD 2>/dev/null || echo '?') (may lag the working tree that runs), node $(node --version), budget ${budget}s"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/nvidia-smi: /' | tee -a "$log"
node --input-type=module -e "
import { create } from 'webgpu';
const a = await create([]).requestAdapter();
if (!a) { console.log('webgpu adapter: none'); process.exit(0); }
const i = a.info ?? (a.requestAdapterInfo ? await a.requestAdapterInfo() : {});
console.log('webgpu adapter: ' + [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ') + '; timestamp-query ' + a.features.has('timestamp-query'));
" 2>&1 | tee -a "$log"
say "setup took $(( $(date +%s) - start ))s"

# run NAME TIMEOUT_S CMD...: runs CMD with the smaller of TIMEOUT_S and what is left of the budget.
run() {
  local name=$1 limit=$2
  shift 2
  local left=$(( budget - ($(date +%s) - start) - 5 ))
  if [ "$left" -lt 20 ]; then say "-- $name: SKIPPED (budget left ${left}s)"; return; fi
  [ "$left" -lt "$limit" ] && limit=$left
  say "-- $name (timeout ${limit}s): $*"
  local t0=$(date +%s)
  timeout --signal=KILL "$limit" "$@" 2>&1 | grep -v '^backend ' | tee -a "$log"
  local rc=${PIPESTATUS[0]}
  say "-- $name: exit $rc after $(( $(date +%s) - t0 ))s"
}

B=tools/benchmark
MRCNN=configs/mask_rcnn/mask_rcnn_tinyvim_s_fpn_1x_coco.ts
SEMFPN=configs/sem_fpn/fpn_tinyvim_s_ade20k_40k.ts
if [ "${GPU_BENCH_SET:-train}" = final ]; then
  # Every figure of issues 10 and 11 once more on the final code, plus the two before/after switches
  # of this round (dispatch cache off; 256 dispatches per submit), one profile and both demos.
  run backbone_B_train 70 $B backbone --model TinyViM_B --mode train --shape 800 1344 --batch 2 --backend webgpu --warmup 2 --runs 3 --repeats 3 --json "$out/backbone_B_train.json"
  run backbone_B_train_nocache 60 env TVD_WEBGPU_DISPATCH_CACHE=0 $B backbone --model TinyViM_B --mode train --shape 800 1344 --batch 2 --backend webgpu --warmup 2 --runs 3 --repeats 2 --json "$out/backbone_B_train_nocache.json"
  run backbone_B_train_submit256 60 env TVD_WEBGPU_SUBMIT_BATCH=256 $B backbone --model TinyViM_B --mode train --shape 800 1344 --batch 2 --backend webgpu --warmup 2 --runs 3 --repeats 2 --json "$out/backbone_B_train_submit256.json"
  run maskrcnn_S_train 100 $B detector --config $MRCNN --mode train --shape 800 1333 --batch 2 --backend webgpu --warmup 2 --runs 3 --repeats 2 --json "$out/maskrcnn_S_train.json"
  run semfpn_S_train 60 $B segmentor --config $SEMFPN --mode train --shape 512 512 --batch 4 --backend webgpu --warmup 2 --runs 3 --repeats 2 --json "$out/semfpn_S_train.json"
  run cls_S_fused_256 50 $B backbone --model TinyViM_S --head cls --fused --shape 224 224 --batch 256 --backend webgpu --warmup 2 --runs 5 --repeats 3 --json "$out/cls_S_fused_256.json"
  run profile_backbone_B_train 70 $B profile --model TinyViM_B --mode train --shape 800 1344 --batch 2 --backend webgpu --warmup 2 --runs 1 --top 10 --json "$out/profile_backbone_B_train.json"
  MRCNN_B=configs/mask_rcnn/mask_rcnn_tinyvim_b_fpn_1x_coco.ts
  for v in S B; do
    cfgv=$MRCNN; [ $v = B ] && cfgv=$MRCNN_B
    for nb in 1 4; do
      run maskrcnn_${v}_infer_b$nb 50 $B detector --config $cfgv --mode infer --shape 800 1333 --batch $nb --backend webgpu --warmup 2 --runs 3 --json "$out/maskrcnn_${v}_infer_b$nb.json"
    done
  done
  for nb in 1 8; do
    run semfpn_B_infer_b$nb 40 $B segmentor --config configs/sem_fpn/fpn_tinyvim_b_ade20k_40k.ts --mode infer --shape 512 512 --batch $nb --backend webgpu --warmup 2 --runs 3 --json "$out/semfpn_B_infer_b$nb.json"
  done
  run demo_webgpu 200 node --import tsx tools/demo.ts --backend webgpu --work-dir /tmp/gb_demo/demo_mask_rcnn
  run demo_seg_webgpu 150 node --import tsx tools/demo_seg.ts --backend webgpu --work-dir /tmp/gb_demo/demo_sem_fpn
  (cd /tmp/gb_demo 2>/dev/null && tar cJf "$out/demo_logs.tar.xz" --exclude='*.safetensors' --exclude='*.tmp-*' --exclude='vis' . 2>/dev/null)
elif [ "${GPU_BENCH_SET:-train}" = host ]; then
  # Host-side work per step after the dispatch cache: the backbone with and without it, a V8 profile
  # of the backbone step, the Mask R-CNN step and its counts, and the inference figures.
  run backbone_B_train 70 $B backbone --model TinyViM_B --mode train --shape 800 1344 --batch 2 --backend webgpu --warmup 2 --runs 3 --repeats 2 --json "$out/backbone_B_train.json"
  run backbone_B_train_nocache 60 env TVD_WEBGPU_DISPATCH_CACHE=0 $B backbone --model TinyViM_B --mode train --shape 800 1344 --batch 2 --backend webgpu --warmup 2 --runs 3 --json "$out/backbone_B_train_nocache.json"
  prof=/tmp/gb_prof; mkdir -p "$prof"
  run cpuprof_backbone_B_train 60 node --cpu-prof --cpu-prof-dir="$prof/backbone" --import tsx tools/benchmark.ts backbone --model TinyViM_B --mode train --shape 800 1344 --batch 2 --backend webgpu --warmup 2 --runs 4
  run cpuprof_maskrcnn_S_train 90 node --cpu-prof --cpu-prof-dir="$prof/maskrcnn" --import tsx tools/benchmark.ts detector --config $MRCNN --mode train --shape 800 1333 --batch 2 --backend webgpu --warmup 2 --runs 3
  (cd "$prof" && tar cJf "$out/cpuprofiles.tar.xz" backbone maskrcnn 2>/dev/null)
  run profile_maskrcnn_S_train 100 $B profile --config $MRCNN --mode train --shape 800 1333 --batch 2 --backend webgpu --warmup 2 --runs 1 --top 10 --json "$out/profile_maskrcnn_S_train.json"
  for nb in 1 4; do
    run maskrcnn_S_infer_b$nb 50 $B detector --config $MRCNN --mode infer --shape 800 1333 --batch $nb --backend webgpu --warmup 2 --runs 3 --json "$out/maskrcnn_S_infer_b$nb.json"
  done
  run semfpn_B_infer_b8 40 $B segmentor --config configs/sem_fpn/fpn_tinyvim_b_ade20k_40k.ts --mode infer --shape 512 512 --batch 8 --backend webgpu --warmup 2 --runs 3 --json "$out/semfpn_B_infer_b8.json"
elif [ "${GPU_BENCH_SET:-train}" = quick ]; then
  # The four issue-10 train figures with the cached dispatch path, the backbone once more without it
  # (TVD_WEBGPU_DISPATCH_CACHE=0: the before side, same run), the demo on webgpu, then one profile.
  run backbone_B_train 70 $B backbone --model TinyViM_B --mode train --shape 800 1344 --batch 2 --backend webgpu --warmup 2 --runs 3 --repeats 2 --json "$out/backbone_B_train.json"
  run backbone_B_train_nocache 60 env TVD_WEBGPU_DISPATCH_CACHE=0 $B backbone --model TinyViM_B --mode train --shape 800 1344 --batch 2 --backend webgpu --warmup 2 --runs 3 --json "$out/backbone_B_train_nocache.json"
  run maskrcnn_S_train 100 $B detector --config $MRCNN --mode train --shape 800 1333 --batch 2 --backend webgpu --warmup 2 --runs 3 --json "$out/maskrcnn_S_train.json"
  run semfpn_S_train 60 $B segmentor --config $SEMFPN --mode train --shape 512 512 --batch 4 --backend webgpu --warmup 2 --runs 3 --json "$out/semfpn_S_train.json"
  run cls_S_fused_256 50 $B backbone --model TinyViM_S --head cls --fused --shape 224 224 --batch 256 --backend webgpu --warmup 2 --runs 5 --repeats 2 --json "$out/cls_S_fused_256.json"
  run demo_webgpu 230 node --import tsx tools/demo.ts --backend webgpu --work-dir /tmp/gb_demo/demo_mask_rcnn
  [ -f /tmp/gb_demo/demo_mask_rcnn/latest.safetensors ] && node --import tsx tools/export_weights.ts --checkpoint /tmp/gb_demo/demo_mask_rcnn/latest.safetensors --out "$out/demo_mask_rcnn.safetensors" --fp16 2>&1 | tee -a "$log"
  (cd /tmp/gb_demo 2>/dev/null && tar cJf "$out/demo_logs.tar.xz" --exclude='*.safetensors' --exclude='*.tmp-*' . 2>/dev/null)
  run profile_backbone_B_train 70 $B profile --model TinyViM_B --mode train --shape 800 1344 --batch 2 --backend webgpu --warmup 2 --runs 1 --top 10 --json "$out/profile_backbone_B_train.json"
elif [ "${GPU_BENCH_SET:-train}" = demo ]; then
  # Issue 11/17: host CPU profiles of two train steps (where the host time per kernel call goes), then
  # both demos on webgpu (wall time; fp16 weights-only exports of the trained checkpoints come back).
  prof=/tmp/gb_prof; mkdir -p "$prof"
  run cpuprof_backbone_B_train 60 node --cpu-prof --cpu-prof-dir="$prof/backbone" --import tsx tools/benchmark.ts backbone --model TinyViM_B --mode train --shape 800 1344 --batch 2 --backend webgpu --warmup 2 --runs 4
  run cpuprof_semfpn_S_train 60 node --cpu-prof --cpu-prof-dir="$prof/semfpn" --import tsx tools/benchmark.ts segmentor --config $SEMFPN --mode train --shape 512 512 --batch 4 --backend webgpu --warmup 1 --runs 3
  (cd "$prof" && tar cJf "$out/cpuprofiles.tar.xz" backbone semfpn 2>/dev/null)
  run demo_webgpu 240 node --import tsx tools/demo.ts --backend webgpu --work-dir /tmp/gb_demo/demo_mask_rcnn
  run demo_seg_webgpu 240 node --import tsx tools/demo_seg.ts --backend webgpu --work-dir /tmp/gb_demo/demo_sem_fpn
  for d in demo_mask_rcnn demo_sem_fpn; do
    [ -f /tmp/gb_demo/$d/latest.safetensors ] && node --import tsx tools/export_weights.ts --checkpoint /tmp/gb_demo/$d/latest.safetensors --out "$out/$d.safetensors" --fp16 2>&1 | tee -a "$log"
  done
  (cd /tmp/gb_demo 2>/dev/null && tar cJf "$out/demo_logs.tar.xz" --exclude='*.safetensors' --exclude='*.tmp-*' . 2>/dev/null)
elif [ "${GPU_BENCH_SET:-train}" = infer ]; then
  # Issue 11: Mask R-CNN inference (asynchronous test path) at batch 1 and larger batches, S and B;
  # Semantic FPN B inference; then the demo's wall time (train 300 iters + eval + drawings) on webgpu.
  MRCNN_B=configs/mask_rcnn/mask_rcnn_tinyvim_b_fpn_1x_coco.ts
  SEMFPN_B=configs/sem_fpn/fpn_tinyvim_b_ade20k_40k.ts
  for v in S B; do
    cfgv=$MRCNN; [ $v = B ] && cfgv=$MRCNN_B
    for nb in 1 2 4; do
      run maskrcnn_${v}_infer_b$nb 60 $B detector --config $cfgv --mode infer --shape 800 1333 --batch $nb --backend webgpu --warmup 1 --runs 3 --json "$out/maskrcnn_${v}_infer_b$nb.json"
    done
  done
  for nb in 1 8; do
    run semfpn_B_infer_b$nb 40 $B segmentor --config $SEMFPN_B --mode infer --shape 512 512 --batch $nb --backend webgpu --warmup 1 --runs 3 --json "$out/semfpn_B_infer_b$nb.json"
  done
  run demo_webgpu 300 npm run demo -- --backend webgpu --work-dir "$out/demo_mask_rcnn"
else
  run backbone_B_train 110 $B backbone --model TinyViM_B --mode train --shape 800 1344 --batch 2 --backend webgpu --warmup 2 --runs 3 --repeats 2 --json "$out/backbone_B_train.json"
  run maskrcnn_S_train 130 $B detector --config $MRCNN --mode train --shape 800 1333 --batch 2 --backend webgpu --warmup 1 --runs 3 --json "$out/maskrcnn_S_train.json"
  run semfpn_S_train 80 $B segmentor --config $SEMFPN --mode train --shape 512 512 --batch 4 --backend webgpu --warmup 1 --runs 3 --json "$out/semfpn_S_train.json"
  run cls_S_fused_256 60 $B backbone --model TinyViM_S --head cls --fused --shape 224 224 --batch 256 --backend webgpu --warmup 2 --runs 5 --repeats 3 --json "$out/cls_S_fused_256.json"
  run maskrcnn_S_train_unfused_optimizer 100 env TVD_FUSED_OPTIMIZER=0 $B detector --config $MRCNN --mode train --shape 800 1333 --batch 2 --backend webgpu --warmup 1 --runs 3 --json "$out/maskrcnn_S_train_unfused_optimizer.json"
  run maskrcnn_S_infer 50 $B detector --config $MRCNN --mode infer --shape 800 1333 --backend webgpu --warmup 1 --runs 3 --json "$out/maskrcnn_S_infer.json"
  run profile_backbone_B_train 70 $B profile --model TinyViM_B --mode train --shape 800 1344 --batch 2 --backend webgpu --warmup 1 --runs 1 --top 10 --json "$out/profile_backbone_B_train.json"
  run profile_maskrcnn_S_train 120 $B profile --config $MRCNN --mode train --shape 800 1333 --batch 2 --backend webgpu --warmup 1 --runs 1 --top 10 --json "$out/profile_maskrcnn_S_train.json"
fi
# The device tool brings back at most 8 files: the per-run JSONs travel as one archive.
if [ "$(ls "$out"/*.json 2>/dev/null | wc -l)" -gt 4 ]; then
  (cd "$out" && tar cJf results_json.tar.xz *.json && rm -f *.json)
fi
say "== done in $(( $(date +%s) - start ))s"
