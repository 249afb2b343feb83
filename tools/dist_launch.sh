#!/usr/bin/env bash
# Launch one of mmemo's tools on NPROC processes per node with torchrun
# (`python -m torch.distributed.run`; not the deprecated torch.distributed.launch).
#   bash tools/dist_launch.sh NPROC SCRIPT [SCRIPT_ARGS...]
# dist_train.sh and dist_test.sh call this. Environment:
#   NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (free port when
#   NNODES=1, else 29500), PYTHON (python).
# On a machine without CUDA the processes use the gloo backend (mmemo.compat).
set -euo pipefail

NPROC=$1
SCRIPT=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ "$NNODES" == 1 && -z "${PORT:-}" ]]; then
    # a single node picks a free port itself, so parallel jobs do not collide
    RDZV=(--standalone)
else
    RDZV=(--nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" --master_port="${PORT:-29500}")
fi

set -x
PYTHONPATH="$TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "$PYTHON" -m torch.distributed.run "${RDZV[@]}" --nproc_per_node="$NPROC" \
    "$SCRIPT" "${@:3}" --launcher pytorch
