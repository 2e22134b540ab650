#!/usr/bin/env bash
# Reproducible conversion of the MediaPipe pose .task bundles (models/*.task) to ONNX: models/pose_*.onnx and
# models/onnx_manifest.json. Conversion-time only: the tools (TensorFlow, tf2onnx) live in their own environment,
# models/convert/.venv-convert, and are NOT product dependencies. The converted files are committed, so a fresh
# clone never needs to run this. Heavy on CPU: runs niced.
#   models/convert/convert.sh            # detector + full + heavy
#   models/convert/convert.sh --only full
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv-convert/bin/python ]; then
  "$PY" -m venv .venv-convert
fi
if [ ! -f .venv-convert/.installed ] || [ requirements.txt -nt .venv-convert/.installed ]; then
  nice -n 10 .venv-convert/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  touch .venv-convert/.installed
fi
( cd ../.. && .venv/bin/python scripts/fetch_models.py full heavy ) || true
export TF_CPP_MIN_LOG_LEVEL=2 CUDA_VISIBLE_DEVICES=""
exec nice -n 10 .venv-convert/bin/python convert_pose.py "$@"
