#!/usr/bin/env bash
# The recipe of the `nometa` policy (metarlm/checkpoints/nometa): recipes/default.sh's
# architecture, states, optimiser and steps, trained the ordinary way, without per-episode
# abstraction. Every word and output token keeps one slot in every state (`--symbols
# fixed`), so the model can learn what each word of the training domains means, where the
# meta-trained policy must read every meaning off the state.
#
#     bash recipes/nometa.sh                   # from the repository root
#
# Time, STEPS, THREADS and RESUME are as for recipes/default.sh; the shipped checkpoint was
# made by this command beside recipes/default.sh.
set -euo pipefail

OUT=${OUT:-runs/nometa} DEST=${DEST:-metarlm/checkpoints/nometa} EXTRA="--symbols fixed" \
  exec bash "$(dirname "$0")/default.sh"
