#!/usr/bin/env bash
# Distributed training with torchrun:
#   bash tools/dist_train.sh CONFIG NPROC [train.py ARGS...]
# e.g. bash tools/dist_train.sh configs/toy_av.py 2 --work-dir work_dirs/toy
# (NPROC GPUs, or NPROC CPU processes on gloo where there is no GPU).
TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIG=$1
NPROC=$2
exec bash "$TOOLS_DIR/dist_launch.sh" "$NPROC" "$TOOLS_DIR/train.py" "$CONFIG" "${@:3}"
