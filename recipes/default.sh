#!/usr/bin/env bash
# The recipe of the policy that ships with metarlm (metarlm/checkpoints/default).
#
# The policy writes one rule: for a search state (the rules in force, a failing example or a
# span cut from one, and the output it must give) the rule the true program's derivation
# needs next (metarlm.neural.states). Model: the default ModelConfig, a BART-style
# encoder-decoder of about 1.07M parameters (d_model 128, 2+2 layers, 4 heads, ffn 512).
# Data: random programs and episodes streamed from the four built-in domains under their
# priors; from each episode, 4 states of its background plus a random subset of its rules,
# and for 5% of the episodes 4 more of the states an unguided search visits on it
# (on-policy); every state under a fresh random renaming of its words and tokens to slots
# (meta-learning: the model must read every meaning off the state). 6,000 steps of 32
# states, AdamW at 1e-3, 500 warm-up steps, cosine decay; validation every 1,000 steps on 64
# held-out states: loss and the true rule's rank among 16 proposals (top-1, top-10).
#
# Time: under two hours on the 2-core machine with one torch thread, beside
# recipes/nometa.sh on the other core (the shipped run's log.json records its seconds). An
# interrupted run continues with RESUME=--resume.
#
#     bash recipes/default.sh                 # from the repository root
set -euo pipefail

OUT=${OUT:-runs/default}
STEPS=${STEPS:-6000}
THREADS=${THREADS:-1}
RESUME=${RESUME:-}
EXTRA=${EXTRA:-}  # more training options (recipes/nometa.sh adds --symbols fixed)
PYTHON=${PYTHON:-python}

"$PYTHON" -m metarlm.neural.train --task policy --states-per-episode 4 --on-policy 0.05 \
  --grammar miniscan --grammar scan --grammar numbers --grammar code \
  --steps "$STEPS" --batch-size 32 --lr 1e-3 --warmup 500 --seed 0 \
  --d-model 128 --layers 2 --heads 4 --ffn 512 \
  --threads "$THREADS" --workers 0 \
  --valid-every 1000 --valid-episodes 64 --valid-samples 16 \
  --checkpoint-every 500 --out "$OUT" $RESUME $EXTRA

# Ship the weights and the record of how they were made, not the optimizer state.
DEST=${DEST:-metarlm/checkpoints/default}
mkdir -p "$DEST"
cp "$OUT"/config.json "$OUT"/generation_config.json "$OUT"/model.safetensors \
   "$OUT"/metarlm.json "$OUT"/log.json "$OUT"/curve.png "$DEST"/
chmod 644 "$DEST"/*  # save_pretrained writes the weights owner-only
echo "checkpoint written to $DEST"
