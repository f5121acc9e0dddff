#!/usr/bin/env bash
# One reader round on a lent GPU machine (the `device` tool), which gets the working tree and
# what `carry` names, and nothing else: no datasets, no fonts, no onnx2torch. Prepare here:
#
#   python -m recognition.training.reader.detected_crops --data ../shared/datasets \
#       --out runs/gpu/detcrops_train --split train --synthetic-per-bucket 200 --threads 1
#   python -m recognition.training.reader.detected_crops --data ../shared/datasets \
#       --out runs/gpu/detcrops_val --split val --synthetic-per-bucket 0 --threads 1
#   python -m recognition.training.reader.train --data ../shared/datasets \
#       --detected-crops runs/gpu/detcrops_train --detected-val runs/gpu/detcrops_val \
#       --write-bundle runs/gpu/carry/crops.npz
#   pip download --no-deps --only-binary=:all: onnx2torch==1.5.15 -d runs/gpu/carry/whl
#   the renderer's fonts (recognition.synth.plates.fonts.available_fonts()) copied under
#   runs/gpu/carry/fonts/ at their full paths
#
# then run, there, with `carry: ["runs/gpu/carry"]`:
#
#   MINUTES=6.5 bash recognition/training/reader/gpu_round.sh
#
# It trains from the shipped reader on the GPU (on the CPU if the GPU fails a first step) for
# MINUTES, with the data made by all but two of the machine's cores, and leaves the best
# checkpoint's weights (no optimiser state: it is 12 MB) and the log in $OUT. Here,
# `train --out DIR --export models/ocr` exports them as any round's.
set -euo pipefail

CARRY=${CARRY:-runs/gpu/carry}
RESULT=${OUT:-runs/gpu/out}
MINUTES=${MINUTES:-6.5}
SEED=${SEED:-11}
LR=${LR:-1.2e-4}
BATCH=${BATCH:-128}
REAL=${REAL:-0.5}
# the synthetic mix's weights to change (train --format-weights), e.g. ua_transit=2
FORMAT_WEIGHTS=${FORMAT_WEIGHTS:-}
WORK=${WORK:-/tmp/ocr_gpu}
mkdir -p "$RESULT" "$WORK"

python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "$CARRY"/whl/*.whl
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
if [ -d "$CARRY/fonts/usr/share/fonts" ]; then
    mkdir -p /usr/share/fonts && cp -rn "$CARRY/fonts/usr/share/fonts/." /usr/share/fonts/ || true
fi
nvidia-smi -L || true

DEVICE=cpu
if python3 - <<'EOF'
import torch
from pathlib import Path
from recognition.training.reader.train import build_model
from recognition.training.reader.loop import greedy_decode

assert torch.cuda.is_available()
model = build_model(Path("models/ocr/platereader.onnx")).to("cuda")
x = torch.zeros(4, 1, 48, 160, device="cuda")
logits = model(x)
log_probs = logits.log_softmax(2).permute(1, 0, 2)
targets = torch.ones(8, dtype=torch.long, device="cuda")
lengths = torch.full((4,), 2, dtype=torch.long, device="cuda")
steps = torch.full((4,), log_probs.shape[0], dtype=torch.long, device="cuda")
torch.nn.CTCLoss(zero_infinity=True)(log_probs, targets, steps, lengths).backward()
print("cuda smoke ok", logits.shape, greedy_decode(logits)[:1])
EOF
then
    DEVICE=cuda
fi
CORES=$(nproc)
# on the CPU the network's step needs cores of its own too
THREADS=$([ "$DEVICE" = cuda ] && echo 2 || echo $((CORES / 3 > 1 ? CORES / 3 : 1)))
WORKERS=$((CORES > THREADS + 1 ? CORES - THREADS : 1))
echo "device $DEVICE, $WORKERS data workers, $MINUTES minutes"

python3 -m recognition.training.reader.train --bundle "$CARRY/crops.npz" --out "$WORK" \
    --graph models/ocr/platereader.onnx --init-from models/ocr/platereader.pth \
    --device "$DEVICE" --workers "$WORKERS" --threads "$THREADS" \
    --epochs 200 --steps-per-epoch 1000 --time-budget "$MINUTES" --lr "$LR" \
    --batch-size "$BATCH" --seed "$SEED" --real-fraction "$REAL" --val-synth 200 \
    ${FORMAT_WEIGHTS:+--format-weights "$FORMAT_WEIGHTS"} \
    2>&1 | tee "$RESULT/train.log"

cp "$WORK/log.jsonl" "$RESULT/log.jsonl"
python3 - "$WORK/best.pth" "$RESULT/best.pth" <<'EOF'
import sys
import torch

ckpt = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
slim = {k: ckpt[k] for k in ("model", "epoch", "best", "val", "args")}
torch.save(slim, sys.argv[2])
print("best epoch", slim["epoch"], slim["val"])
EOF
