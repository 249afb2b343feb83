#!/usr/bin/env bash
# k-fold evaluation with each fold trained and tested by torchrun:
#   bash tools/dist_kfold.sh CONFIG NPROC [kfold.py ARGS...]
# e.g. bash tools/dist_kfold.sh configs/avtca_ravdess_6fold.py 8 --folds 1,2
# kfold.py itself runs once (it is not started by torchrun); it launches
# tools/train.py and tools/test.py on NPROC processes per fold through
# tools/dist_launch.sh (same environment: NNODES, NODE_RANK, MASTER_ADDR,
# PORT, PYTHON). Without CUDA the processes run on CPU with gloo.
TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIG=$1
NPROC=$2
PYTHON=${PYTHON:-python}
PYTHONPATH="$TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "$PYTHON" "$TOOLS_DIR/kfold.py" "$CONFIG" --launcher pytorch --gpus "$NPROC" "${@:3}"
