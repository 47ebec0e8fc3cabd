#!/usr/bin/env bash
# The recipe of the whole-program model of the `nye` baseline (metarlm/checkpoints/nye): the
# method of Nye et al. 2020, a model that writes whole programs for a demonstration, whose
# samples are checked. The search does not use it; `metarlm eval --system nye` does.
#
# Model: the default ModelConfig, a BART-style encoder-decoder of about 1.07M parameters
# (d_model 128, 2+2 layers, 4 heads, ffn 512). Data: episodes streamed from the four built-in
# domains, each with its own prior (about half of them one-shot episodes with background
# rules), every episode under a fresh random renaming of its words and tokens to slots, the
# target program with its one-word rules in slot order. 6,000 steps of 32 episodes (192,000
# episodes), AdamW at 1e-3, 500 warm-up steps, cosine decay to 1e-4; validation on 64 held-out
# episodes every 1,000 steps.
#
# Time: 80 minutes on the 2-core machine with one torch thread. The shipped checkpoint was
# made with these options when the training module was still `metarlm.train` (its recorded
# command says so); the module moved, the training did not change.
#
#     bash recipes/nye.sh                     # from the repository root
set -euo pipefail

OUT=${OUT:-runs/nye}
STEPS=${STEPS:-6000}
THREADS=${THREADS:-1}
RESUME=${RESUME:-}
PYTHON=${PYTHON:-python}

"$PYTHON" -m metarlm.neural.train --task program \
  --grammar miniscan --grammar scan --grammar numbers --grammar code \
  --steps "$STEPS" --batch-size 32 --lr 1e-3 --warmup 500 --seed 0 \
  --d-model 128 --layers 2 --heads 4 --ffn 512 \
  --threads "$THREADS" --workers 0 \
  --valid-every 1000 --valid-episodes 64 --valid-samples 16 \
  --checkpoint-every 500 --out "$OUT" $RESUME

DEST=${DEST:-metarlm/checkpoints/nye}
mkdir -p "$DEST"
cp "$OUT"/config.json "$OUT"/generation_config.json "$OUT"/model.safetensors \
   "$OUT"/metarlm.json "$OUT"/log.json "$OUT"/curve.png "$DEST"/
chmod 644 "$DEST"/*  # save_pretrained writes the weights owner-only
echo "checkpoint written to $DEST"
