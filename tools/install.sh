#!/usr/bin/env bash
# Create (or reuse) a virtual environment with mmemo and its whole stack.
#
#   bash tools/install.sh            # venv in ./.venv
#   VENV=/path/to/venv bash tools/install.sh
#   PYTHON=python3.12 bash tools/install.sh
#
# Steps (see docs/en/get_started/install.md for why each one exists):
#   1. torch trio first, with the exact pins of requirements/runtime.txt (torchaudio pins one exact
#      torch; installing it together with everything else would pull the newest torch first);
#   2. mmemo itself, editable, with the mmcv-lite / optional / tests extras;
#   3. the headless OpenCV build wins the shared `cv2/` folder (mmengine, mmcv-lite and mmaction2
#      each pull a different OpenCV distribution; the GUI ones need libGL.so.1);
#   4. the MTCNN face-detector weights, taken from the facenet-pytorch wheel (pinned sha256).
# No Debian package is needed: PyAV's wheels carry their own FFmpeg, and OpenCV is headless.
#
# A venv whose stamp matches the requirement files and that imports mmemo is reused as it is.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
cd "$ROOT"

log() { printf '[mmemo install] %s\n' "$*"; }
die() { printf '[mmemo install] ERROR: %s\n' "$*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null || die "no '$PYTHON' on PATH; set PYTHON=/path/to/python3.10+"
"$PYTHON" - <<'EOF' || die "mmemo needs Python 3.10 to 3.13 (torch 2.9.1 wheels exist for those)"
import sys
sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 13) else 1)
EOF

# Everything that decides what gets installed goes into the stamp, and the
# checkout's path too: the editable install points at one checkout.
stamp_now="$({ "$PYTHON" -c 'import sys; print(sys.version)'; echo "$ROOT";
               cat requirements/*.txt setup.py pyproject.toml tools/install.sh; } | sha256sum | cut -c1-16)"
stamp_file="$VENV/.mmemo-install-stamp"

# Valid = same stamp, mmemo (imported from outside the checkout) is this one,
# and the checkout still has the mmemo/.mim links the editable install made
# (a fresh clone at the same path has not).
venv_is_valid() {
    [[ -x "$VENV/bin/python" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp_now" ]] || return 1
    local entry
    for entry in configs tools model-index.yml; do
        [[ -e "$ROOT/mmemo/.mim/$entry" ]] || return 1
    done
    (cd / && "$VENV/bin/python" -c '
import os.path as osp, sys
import mmemo, mmaction, torchaudio  # noqa: F401
sys.exit(osp.dirname(osp.dirname(osp.abspath(mmemo.__file__))) != sys.argv[1])
' "$ROOT") >/dev/null 2>&1
}

if venv_is_valid; then
    log "reusing $VENV (stamp $stamp_now)"
    exit 0
fi

if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "creating virtual environment $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
else
    log "updating virtual environment $VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
export PIP_PROGRESS_BAR=off

# 1. torch trio, exactly as pinned in requirements/runtime.txt.
mapfile -t torch_trio < <(grep -E '^(torch|torchaudio|torchvision)==' requirements/runtime.txt)
[[ ${#torch_trio[@]} -eq 3 ]] || die "requirements/runtime.txt must pin torch, torchaudio and torchvision"
log "step 1/3: ${torch_trio[*]}"
"${PIP[@]}" install "${torch_trio[@]}"

# 2. mmemo (editable) with mmcv-lite, the optional decoders/tools and the test tools.
log "step 2/3: mmemo[mim,optional,tests] (editable)"
"${PIP[@]}" install -e ".[mim,optional,tests]"

# 3. headless OpenCV, same version as the one the resolver chose.
cv_version="$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("opencv-python"))')"
log "step 3/3: opencv-python-headless==$cv_version owns cv2/"
"${PIP[@]}" install --force-reinstall --no-deps "opencv-python-headless==$cv_version"

"${PIP[@]}" check || die "pip check found broken requirements"

# Face detector weights (MTCNN) from the facenet-pytorch wheel on PyPI, checked
# against pinned sha256 sums, into $VENV/share/mmemo/mtcnn (see FaceCrop).
log "face detector weights"
"$VENV/bin/python" tools/misc/fetch_face_weights.py
"$VENV/bin/python" -c 'import mmemo, torchaudio, mmaction; print("mmemo", mmemo.__version__, "ok")'
echo "$stamp_now" > "$stamp_file"
log "done: activate with 'source $VENV/bin/activate'"
