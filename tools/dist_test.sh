#!/usr/bin/env bash
# Distributed testing with torchrun:
#   bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py ARGS...]
TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
exec bash "$TOOLS_DIR/dist_launch.sh" "$NPROC" "$TOOLS_DIR/test.py" "$CONFIG" "$CHECKPOINT" "${@:4}"
