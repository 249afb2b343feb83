#!/usr/bin/env bash
# One prepared check of mmemo on a CUDA machine (issue 19, P5), in under
# 8 minutes, ending with one table:
#   1. cuda   nvidia-smi and torch.cuda see a GPU
#   2. data   the synthetic AV set is generated (outside the timed training)
#      cache  a clip-cache CONFIG's cache is filled (tools/data/cache_clips.py,
#             into WORK_DIR/clip_cache), so that training reads no video
#   3. train  CONFIG for one epoch with AMP through tools/dist_train.sh
#             (torchrun, 1 process, NCCL), nvidia-smi sampling the GPU's
#             utilisation every 0.5 s meanwhile
#   4. P5     the share of time the GPU was busy during training (below)
#   5. test   tools/test.py on the trained checkpoint
#   6. bench  tools/benchmark.py all --device cuda (its rows in the table)
#
#   bash tools/gpu_check.sh [--dry-run] [--config CONFIG] [--work-dir DIR]
#
# P5: nvidia-smi's utilization.gpu is the percentage of its last sample
# period in which a kernel ran; P5 is the mean of the samples taken from
# the first non-zero one to the last non-zero one (the training span, the
# process start-up and shutdown left out), goal >= 90 % with the clip
# cache: CONFIG is configs/avtca_synth_clipcache.py by default (the model
# and recipe of avtca_synth.py, its decoded clips read from the cache);
# --config configs/avtca_synth.py measures the decoding path instead. The table also gives the mean over the whole
# run and the share of non-zero samples.
#
# --dry-run runs the same steps on the CPU with tiny settings (the tiny
# synthetic set, batch 4, no dataloader workers, gloo instead of NCCL, no
# AMP: MMEngine's AmpOptimWrapper needs a GPU; no utilisation sampling; the
# benchmark is one P2 training step instead of `all`), so that CI exercises
# the script's logic. Each step has a time limit (seconds; environment
# LIMIT_DATA, LIMIT_TRAIN, LIMIT_TEST, LIMIT_BENCH). Exit status: 0 when
# every step passed, 1 otherwise. PYTHON picks the interpreter (python).
set -uo pipefail

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$TOOLS_DIR/.." && pwd)"
PYTHON=${PYTHON:-python}
DRY_RUN=0
CONFIG=configs/avtca_synth_clipcache.py
WORK_DIR=work_dirs/gpu_check
while [[ $# -gt 0 ]]; do
    case "$1" in
        --dry-run) DRY_RUN=1; shift ;;
        --config) CONFIG=$2; shift 2 ;;
        --work-dir) WORK_DIR=$2; shift 2 ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "gpu_check.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
LIMIT_DATA=${LIMIT_DATA:-90}
LIMIT_CACHE=${LIMIT_CACHE:-60}
LIMIT_TRAIN=${LIMIT_TRAIN:-150}
LIMIT_TEST=${LIMIT_TEST:-45}
LIMIT_BENCH=${LIMIT_BENCH:-180}
TOTAL_GOAL=480  # 8 minutes

cd "$REPO" || exit 1
mkdir -p "$WORK_DIR" || exit 1
WORK_DIR="$(cd "$WORK_DIR" && pwd)"
LOGS="$WORK_DIR/logs"
mkdir -p "$LOGS"
ROWS="$WORK_DIR/rows.tsv"
: > "$ROWS"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
START=$SECONDS
FAILED=0

# add_row STEP STATUS SECONDS LIMIT RESULT
add_row() {
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> "$ROWS"
    [[ "$2" == FAILED ]] && FAILED=1
    return 0
}

# run_step NAME LIMIT LOG CMD...: runs CMD under `timeout`, sets STEP_S and
# STEP_STATUS (ok, FAILED; a timeout says so in the log's last line)
run_step() {
    local name=$1 limit=$2 log=$3
    shift 3
    echo "== $name (limit ${limit} s): $*"
    local t0=$SECONDS
    timeout --signal=TERM --kill-after=10 "$limit" "$@" > "$log" 2>&1
    local rc=$?
    STEP_S=$((SECONDS - t0))
    if [[ $rc -eq 0 ]]; then
        STEP_STATUS=ok
    else
        STEP_STATUS=FAILED
        [[ $rc -eq 124 ]] && echo "timed out after ${limit} s" >> "$log"
        echo "-- $name failed (exit $rc), the end of $log:"
        tail -n 20 "$log"
    fi
}

# ------------------------------------------------------------------ 1. cuda
DATA_OPTS=()
if [[ $DRY_RUN == 1 ]]; then
    export CUDA_VISIBLE_DEVICES=  # the CPU path, also on a GPU machine
    DATA_ROOT="$WORK_DIR/synthetic_tiny"
    # the tiny set has actors 1-5: train 1-3, validate 4, test 5; 8
    # training clips (2 steps), 4 to validate and to test
    for loader in train_dataloader val_dataloader test_dataloader; do
        DATA_OPTS+=("$loader.dataset.data_root=$DATA_ROOT"
                    "$loader.dataset.size=tiny" "$loader.dataset.folds=[[5]]"
                    "$loader.dataset.val_subjects=[4]"
                    "$loader.dataset.nproc=2"
                    "$loader.dataset.indices=$([[ $loader == train* ]] && echo 8 || echo 4)"
                    "$loader.batch_size=4" "$loader.num_workers=0"
                    "$loader.persistent_workers=False")
    done
    AMP=()
    add_row cuda skipped 0 - "--dry-run: CPU, gloo, no AMP (AmpOptimWrapper needs a GPU)"
else
    DATA_ROOT=$("$PYTHON" -c "from mmengine.config import Config; \
print(Config.fromfile('$CONFIG').train_dataloader.dataset.data_root)")
    NPROC_GEN=$(nproc 2>/dev/null || echo 2)
    for loader in train_dataloader val_dataloader test_dataloader; do
        DATA_OPTS+=("$loader.dataset.nproc=$NPROC_GEN")
    done
    AMP=(--amp)
    t0=$SECONDS
    if ! command -v nvidia-smi > /dev/null; then
        add_row cuda FAILED 0 - "nvidia-smi not found: no NVIDIA driver here (use --dry-run on a CPU machine)"
    else
        GPU=$(nvidia-smi --query-gpu=name,memory.total,driver_version \
              --format=csv,noheader 2> "$LOGS/cuda.log" | head -n 1)
        TORCH_CUDA=$("$PYTHON" -c "import torch; \
print(torch.cuda.is_available(), torch.__version__, torch.version.cuda)" 2>> "$LOGS/cuda.log")
        if [[ -n "$GPU" && "$TORCH_CUDA" == True* ]]; then
            add_row cuda ok $((SECONDS - t0)) - "$GPU; torch ${TORCH_CUDA#True }"
        else
            add_row cuda FAILED $((SECONDS - t0)) - "nvidia-smi: '${GPU:-none}', torch.cuda.is_available() ${TORCH_CUDA:-?} (see $LOGS/cuda.log)"
        fi
    fi
fi

# ------------------------------------------------------------------ 2. data
cat > "$WORK_DIR/make_data.py" <<'EOF'
"""Build CONFIG's train/val/test datasets once (a missing synthetic set
is generated) and print their sizes."""
import sys

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import mmemo  # noqa: F401
from mmemo.registry import DATASETS

cfg = Config.fromfile(sys.argv[1])
cfg.merge_from_dict({k: DictAction._parse_iterable(v)
                     for k, v in (o.split('=', 1) for o in sys.argv[2:])})
init_default_scope('mmemo')
sizes = []
for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
    dataset = DATASETS.build(dict(cfg[key].dataset, pipeline=[]))
    sizes.append(f'{key.split("_")[0]} {len(dataset)}')
print('clips: ' + ', '.join(sizes))
EOF
run_step data "$LIMIT_DATA" "$LOGS/data.log" \
    "$PYTHON" "$WORK_DIR/make_data.py" "$CONFIG" "${DATA_OPTS[@]}"
add_row data "$STEP_STATUS" "$STEP_S" "$LIMIT_DATA" \
    "$(tail -n 1 "$LOGS/data.log") ($DATA_ROOT)"

# ----------------------------------------------------------------- cache
if grep -q ClipCachePipeline "$CONFIG"; then
    CACHE_OPTS=()
    for loader in train_dataloader val_dataloader test_dataloader; do
        CACHE_OPTS+=("$loader.dataset.pipeline.0.cache_dir=$WORK_DIR/clip_cache")
    done
    run_step cache "$LIMIT_CACHE" "$LOGS/cache.log" \
        "$PYTHON" "$TOOLS_DIR/data/cache_clips.py" "$CONFIG" \
        --split train val test --workers "$(nproc 2>/dev/null || echo 2)" \
        --overwrite --no-progress --cfg-options "${DATA_OPTS[@]}" \
        "${CACHE_OPTS[@]}"
    add_row cache "$STEP_STATUS" "$STEP_S" "$LIMIT_CACHE" \
        "$(grep -i 'clips\|MiB' "$LOGS/cache.log" | tail -n 1) ($WORK_DIR/clip_cache)"
    DATA_OPTS+=("${CACHE_OPTS[@]}")
fi

# ----------------------------------------------------------------- 3. train
TRAIN_DIR="$WORK_DIR/train"
rm -rf "$TRAIN_DIR"
UTIL="$WORK_DIR/utilisation.csv"
rm -f "$UTIL"
SAMPLER_PID=
if [[ $DRY_RUN == 0 ]] && command -v nvidia-smi > /dev/null; then
    nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits \
        -lms 500 > "$UTIL" 2> "$LOGS/utilisation.log" &
    SAMPLER_PID=$!
fi
NCCL_DEBUG=${NCCL_DEBUG:-INFO} PYTHON="$PYTHON" run_step train "$LIMIT_TRAIN" "$LOGS/train.log" \
    bash "$TOOLS_DIR/dist_train.sh" "$CONFIG" 1 "${AMP[@]}" \
    --work-dir "$TRAIN_DIR" --cfg-options train_cfg.max_epochs=1 \
    "${DATA_OPTS[@]}"
if [[ -n "$SAMPLER_PID" ]]; then
    kill "$SAMPLER_PID" 2> /dev/null
    wait "$SAMPLER_PID" 2> /dev/null
fi
CKPT=
[[ -f "$TRAIN_DIR/last_checkpoint" ]] && CKPT=$(cat "$TRAIN_DIR/last_checkpoint")
# the backend the process group used (NCCL_DEBUG=INFO makes NCCL say so;
# mmemo.compat turns the configured nccl into gloo without CUDA)
if grep -q '\[Gloo\] Rank' "$LOGS/train.log"; then
    BACKEND=gloo
elif grep -q 'NCCL INFO' "$LOGS/train.log"; then
    BACKEND=nccl
else
    BACKEND="? (configured: $(grep -o "'backend': '[a-z]*'" "$LOGS/train.log" | head -n 1 | cut -d"'" -f4))"
fi
DIST=$(grep -c 'Distributed training: True' "$LOGS/train.log")
WRAPPER=$(grep -o 'AmpOptimWrapper' "$LOGS/train.log" | head -n 1)
if [[ "$STEP_STATUS" == ok && ( -z "$CKPT" || ! -f "$CKPT" ) ]]; then
    STEP_STATUS=FAILED
fi
add_row train "$STEP_STATUS" "$STEP_S" "$LIMIT_TRAIN" \
    "1 epoch of $(basename "$CONFIG"), torchrun 1 process, distributed: $([[ $DIST -gt 0 ]] && echo yes || echo no), backend ${BACKEND:-?}, ${WRAPPER:-OptimWrapper (no AMP)}; checkpoint ${CKPT:+$(basename "$CKPT")}"

# -------------------------------------------------------------------- 4. P5
if [[ $DRY_RUN == 1 ]]; then
    add_row "P5 GPU busy" skipped - - "--dry-run: no GPU to sample"
elif [[ ! -s "$UTIL" ]]; then
    add_row "P5 GPU busy" FAILED - - "no nvidia-smi samples (see $LOGS/utilisation.log)"
else
    P5=$("$PYTHON" - "$UTIL" <<'EOF'
import sys
vals = []
for line in open(sys.argv[1]):
    try:
        vals.append(float(line.strip()))
    except ValueError:
        pass
busy = [i for i, v in enumerate(vals) if v > 0]
if not busy:
    print(f'0.0\t{len(vals)} samples, all 0 %')
    sys.exit()
span = vals[busy[0]:busy[-1] + 1]
mean_span = sum(span) / len(span)
print(f'{mean_span:.1f}\tmean {mean_span:.1f} % over the training span '
      f'({len(span)} samples of 0.5 s), goal >= 90 %; whole run: mean '
      f'{sum(vals) / len(vals):.1f} %, {100 * len(busy) / len(vals):.0f} % '
      f'of {len(vals)} samples non-zero')
EOF
)
    VALUE=${P5%%$'\t'*}
    STATUS=$("$PYTHON" -c "print('ok' if float('$VALUE') >= 90 else 'below goal')")
    add_row "P5 GPU busy" "$STATUS" - - "${P5#*$'\t'}"
fi

# ------------------------------------------------------------------ 5. test
if [[ -n "$CKPT" && -f "$CKPT" ]]; then
    run_step test "$LIMIT_TEST" "$LOGS/test.log" \
        "$PYTHON" "$TOOLS_DIR/test.py" "$CONFIG" "$CKPT" \
        --work-dir "$WORK_DIR/test" --cfg-options "${DATA_OPTS[@]}"
    METRICS=$(grep 'Epoch(test)' "$LOGS/test.log" | tail -n 1 |
              sed -e 's/.*Epoch(test) *\[[0-9/]*\] *//' -e 's/ *data_time.*//' |
              grep -o '[a-z_/0-9]*: [0-9.]*' | head -n 4 | paste -sd ' ')
    if [[ "$STEP_STATUS" == ok && -z "$METRICS" ]]; then
        STEP_STATUS=FAILED
    fi
    add_row test "$STEP_STATUS" "$STEP_S" "$LIMIT_TEST" "${METRICS:-no metrics (see $LOGS/test.log)}"
else
    add_row test FAILED - "$LIMIT_TEST" "no checkpoint from the training step"
fi

# ----------------------------------------------------------------- 6. bench
BENCH_JSON="$WORK_DIR/bench.json"
rm -f "$BENCH_JSON"
if [[ $DRY_RUN == 1 ]]; then
    # the benchmark makes its samples from the GRID clips: the decoding
    # config of a clip-cache one
    BENCH_CONFIG=${CONFIG/_clipcache/}
    BENCH=(train-step "$BENCH_CONFIG" --name "$(basename "$BENCH_CONFIG" .py)"
           --compare-ref --steps 1 --batch-size 2 --threads 1
           --json-out "$BENCH_JSON")
else
    BENCH=(all --device cuda --out "$WORK_DIR/bench")
fi
run_step bench "$LIMIT_BENCH" "$LOGS/bench.log" \
    "$PYTHON" "$TOOLS_DIR/benchmark.py" "${BENCH[@]}" \
    --work-dir "$WORK_DIR/benchmark"
BENCH_ROWS=$("$PYTHON" - "$BENCH_JSON" <<'EOF'
import json
import sys
try:
    data = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit()
for r in data['rows'] if isinstance(data, dict) else data:
    ratio = '' if r['ratio'] is None else f', ratio {r["ratio"]}'
    goal = '' if r['goal'] is None else f', goal {r["goal"]}'
    clips = r['details'].get('clips_per_s')
    clips = '' if clips is None else f' ({clips} clips/s)'
    print(f'{r["benchmark"]}\t{r["measured"]} {r["unit"]}{clips}{ratio}'
          f'{goal}')
EOF
)
N_BENCH=$(printf '%s' "$BENCH_ROWS" | grep -c . || true)
if [[ "$STEP_STATUS" == ok && "$N_BENCH" -eq 0 ]]; then
    STEP_STATUS=FAILED
fi
add_row bench "$STEP_STATUS" "$STEP_S" "$LIMIT_BENCH" \
    "benchmark.py ${BENCH[0]}: $N_BENCH rows"
while IFS=$'\t' read -r name result; do
    [[ -n "$name" ]] && add_row "  $name" - - - "$result"
done <<< "$BENCH_ROWS"

# ----------------------------------------------------------------- table
TOTAL=$((SECONDS - START))
if [[ $TOTAL -le $TOTAL_GOAL ]]; then
    add_row total ok "$TOTAL" "$TOTAL_GOAL" "under 8 minutes"
else
    add_row total "over" "$TOTAL" "$TOTAL_GOAL" "over 8 minutes"
fi
echo
echo "mmemo GPU check ($([[ $DRY_RUN == 1 ]] && echo 'dry run on the CPU' || echo CUDA)), $(date -u '+%Y-%m-%d %H:%M UTC'), logs in $LOGS"
"$PYTHON" - "$ROWS" <<'EOF'
import sys
rows = [('step', 'status', 's', 'limit s', 'result')]
rows += [tuple(line.rstrip('\n').split('\t')) for line in open(sys.argv[1])]
widths = [max(len(r[i]) for r in rows) for i in range(4)]
for i, r in enumerate(rows):
    print('  '.join(c.ljust(w) for c, w in zip(r[:4], widths)) + '  ' + r[4])
    if i == 0:
        print('  '.join('-' * w for w in widths) + '  ' + '-' * 6)
EOF
exit $FAILED
