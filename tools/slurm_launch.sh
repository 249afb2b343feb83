#!/usr/bin/env bash
# Launch one of mmemo's tools as a slurm job step:
#   bash tools/slurm_launch.sh PARTITION JOB_NAME SCRIPT [SCRIPT_ARGS...]
# slurm_train.sh and slurm_test.sh call this. Environment:
#   GPUS (8): number of tasks; GPUS_PER_NODE (8): tasks per node;
#   CPUS_PER_TASK (5); GRES (gpu:$GPUS_PER_NODE; set GRES= for CPU
#   partitions); SRUN_ARGS (extra srun arguments); PYTHON (python);
#   MASTER_PORT (a random port).
set -euo pipefail

PARTITION=$1
JOB_NAME=$2
SCRIPT=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
GRES=${GRES-gpu:${GPUS_PER_NODE}}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export MASTER_PORT=${MASTER_PORT:-$((12000 + RANDOM % 20000))}

GRES_ARGS=()
[[ -n "$GRES" ]] && GRES_ARGS=(--gres="$GRES")

set -x
# SRUN_ARGS is split on purpose: it holds several srun options.
# shellcheck disable=SC2086
PYTHONPATH="$TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
exec srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    "${GRES_ARGS[@]}" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$SCRIPT" "${@:4}" --launcher=slurm
