#!/usr/bin/env bash
# Testing on slurm:
#   [GPUS=8 ...] bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py ARGS...]
TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
exec bash "$TOOLS_DIR/slurm_launch.sh" "$PARTITION" "$JOB_NAME" "$TOOLS_DIR/test.py" "$CONFIG" "$CHECKPOINT" "${@:5}"
