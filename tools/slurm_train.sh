#!/usr/bin/env bash
# Training on slurm:
#   [GPUS=8 GPUS_PER_NODE=8 CPUS_PER_TASK=5 GRES=... SRUN_ARGS=...] \
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py ARGS...]
TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
exec bash "$TOOLS_DIR/slurm_launch.sh" "$PARTITION" "$JOB_NAME" "$TOOLS_DIR/train.py" "$CONFIG" "${@:4}"
