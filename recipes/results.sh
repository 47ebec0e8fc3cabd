#!/usr/bin/env bash
# The evaluation behind RESULTS.md: every suite, the five systems, the shipped checkpoints.
#
#     bash recipes/results.sh          # from the repository root; about 11 minutes on 2 cores
#
# Budgets are the defaults of `metarlm eval` (200,000 candidates, 20 s and 512 model samples
# per run) for every system. Four runs, so each suite family gets the seeds and truncations it
# can afford on a 2-core machine:
#   miniscan          3 seeds, the 14 study items truncated to 1, 2, 4, 8 demonstrations too
#   random grammars   (miniscan-random, new-domain, code) 2 seeds x 6 tasks, truncated to 1, 4, 16
#   numbers           every language once, 40 demonstrations each
#   scan              4 splits x 2 support sets of 30, and the one-shot add-jump protocol
set -euo pipefail

OUT=${OUT:-runs/results}
WORKERS=${WORKERS:-2}
SYSTEMS="--system meta --system nometa --system enum --system nye --system greedy"
PYTHON=${PYTHON:-python}

"$PYTHON" -m metarlm eval --suite miniscan $SYSTEMS --seeds 3 --workers "$WORKERS" \
  --out "$OUT/miniscan"
"$PYTHON" -m metarlm eval --suite miniscan-random --suite new-domain --suite code $SYSTEMS \
  --seeds 2 --episodes 6 --shots 1,4,16 --workers "$WORKERS" --out "$OUT/random"
"$PYTHON" -m metarlm eval --suite numbers $SYSTEMS --seeds 1 --shots '' \
  --workers "$WORKERS" --out "$OUT/numbers"
"$PYTHON" -m metarlm eval --suite scan-simple --suite scan-length --suite scan-addjump \
  --suite scan-aroundright --suite scan-oneshot $SYSTEMS --seeds 1 --episodes 2 --shots '' \
  --workers "$WORKERS" --out "$OUT/scan"
echo "results in $OUT/{miniscan,random,numbers,scan}"
