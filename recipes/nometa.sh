#!/usr/bin/env bash
# The recipe of the `nometa` baseline (metarlm/checkpoints/nometa): the same architecture,
# data stream, optimiser and number of steps as recipes/default.sh, trained the ordinary way,
# without per-episode abstraction. Every word and output token keeps one slot in every
# episode (`--symbols fixed`), so the model can learn what each word of the training domains
# means, where the meta-trained model must read every meaning off the support set.
#
#     bash recipes/nometa.sh                   # from the repository root
#     THREADS=1 STEPS=6000 bash recipes/nometa.sh
#
# Time and resuming are as for recipes/default.sh.
set -euo pipefail

OUT=${OUT:-runs/nometa}
STEPS=${STEPS:-6000}
THREADS=${THREADS:-2}
RESUME=${RESUME:-}
PYTHON=${PYTHON:-python}

"$PYTHON" -m metarlm.train \
  --grammar miniscan --grammar scan --grammar numbers --grammar code \
  --steps "$STEPS" --batch-size 32 --lr 1e-3 --warmup 500 --seed 0 --symbols fixed \
  --d-model 128 --layers 2 --heads 4 --ffn 512 \
  --threads "$THREADS" --workers 0 \
  --valid-every 1000 --valid-episodes 64 --valid-samples 16 \
  --checkpoint-every 500 --out "$OUT" $RESUME

DEST=${DEST:-metarlm/checkpoints/nometa}
mkdir -p "$DEST"
cp "$OUT"/config.json "$OUT"/generation_config.json "$OUT"/model.safetensors \
   "$OUT"/metarlm.json "$OUT"/log.json "$OUT"/curve.png "$DEST"/
chmod 644 "$DEST"/*  # save_pretrained writes the weights owner-only
echo "checkpoint written to $DEST"
