#!/usr/bin/env bash
# Issue 11's end-to-end check of the tools on one backend (default webgpu; on the GPU machine it sources
# .devpack/setup.sh itself): tools/train with evaluation during training (the demo detector config,
# IT iterations, evaluation and checkpoint every IT/2), tools/eval with --out and --show-dir on the
# checkpoint it wrote, and tools/infer over the validation folder. Prints each tool's tail and time.
#   BK=webgpu IT=60 bash tools/gpu_tools_check.sh       (here: BK=wasm IT=2 takes about 9 minutes)
set -u
cd "$(dirname "$0")/.."
# On the GPU machine: Node, the Vulkan loader and node_modules from the device pack (tools/devpack.sh).
[ -f .devpack/setup.sh ] && source .devpack/setup.sh >/dev/null 2>&1
C=configs/demo/mask_rcnn_tinyvim_s_fpn_shapes.ts; W=/tmp/tt; BK=${BK:-webgpu}; IT=${IT:-60}
rm -rf $W
[ -f data/shapes_coco/annotations/instances_train.json ] || node --import tsx tools/make_dataset.ts shapes-coco --out data/shapes_coco --train 600 --val 100 --size 128 --seed 0 | tail -1
s=$(date +%s); tools/train --config $C --backend $BK --work-dir $W --cfg-options runner.max_iters=$IT evaluation.interval=$((IT/2)) checkpoint_config.interval=$((IT/2)) 2>&1 | grep -v "^Iter" | tail -30; echo "train: $(( $(date +%s) - s )) s"
ls $W
s=$(date +%s); tools/eval $C $W/latest.safetensors --backend $BK --out $W/res.json --show-dir $W/show 2>&1 | tail -16; echo "eval: $(( $(date +%s) - s )) s; drawn: $(ls $W/show | wc -l); out: $(ls $W/res* )"
s=$(date +%s); tools/infer --config $C --checkpoint $W/latest.safetensors data/shapes_coco/val --out-dir $W/infer --backend $BK 2>&1 | tail -3; echo "infer: $(( $(date +%s) - s )) s; files: $(ls $W/infer | wc -l)"
