#!/usr/bin/env bash
# The recipe of the `nometa` baseline (metarlm/checkpoints/nometa): recipes/default.sh's
# architecture, data stream, optimiser and steps, trained the ordinary way, without
# per-episode abstraction. Every word and output token keeps one slot in every episode
# (`--symbols fixed`), so the model can learn what each word of the training domains means,
# where the meta-trained model must read every meaning off the support set.
#
#     bash recipes/nometa.sh                   # from the repository root
#
# Time, STEPS, THREADS and RESUME are as for recipes/default.sh; the shipped checkpoint was
# made by this command in a fresh clone, beside recipes/default.sh (80 minutes).
set -euo pipefail

OUT=${OUT:-runs/nometa} DEST=${DEST:-metarlm/checkpoints/nometa} EXTRA="--symbols fixed" \
  exec bash "$(dirname "$0")/default.sh"
