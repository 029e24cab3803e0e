#!/usr/bin/env bash
# Create or update the project's virtual environment (.venv) for `make demo` / `make test`.
# - On a machine whose pip finds a local CPU wheel of torch==2.13.0 (this project's CI and dev
#   machines), that wheel is used, so the multi-GB CUDA build is never pulled.
# - Elsewhere (a user's GPU machine) the ordinary `pip install torch` applies; set TORCH_SPEC to
#   override, e.g. TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cpu".
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# Installed packages are byte-compiled up front: with PYTHONDONTWRITEBYTECODE set (as on CI) every test subprocess would
# otherwise recompile torch and transformers on import (measured: the test suite ran twice as long)
pip_q() { .venv/bin/python -m pip install -q --disable-pip-version-check "$@" 2>&1 | grep -v "^WARNING: Location" || true; }
local_torch() { .venv/bin/python -m pip install -q --no-deps --no-index torch==2.13.0; }   # succeeds only where a local wheel lies
# uv (from PyPI, into .venv) resolves and installs the package's ~150 dependencies in parallel: about 3x faster than pip here.
# It reads pip's find-links from PIP_FIND_LINKS (where this machine's local torch wheel lies); WARMSTART_NO_UV=1 or a failed
# uv install falls back to pip.
if [ -z "${WARMSTART_NO_UV:-}" ] && { [ -x .venv/bin/uv ] || pip_q uv; } && [ -x .venv/bin/uv ]; then
  fl=(); for d in ${PIP_FIND_LINKS:-}; do fl+=(--find-links "$d"); done
  pip_q() { VIRTUAL_ENV="$PWD/.venv" .venv/bin/uv pip install -q --compile-bytecode --python .venv/bin/python "${fl[@]}" "$@"; }
  local_torch() { pip_q --no-deps --no-index torch==2.13.0; }
fi
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  if [ -n "${TORCH_SPEC:-}" ]; then
    pip_q $TORCH_SPEC
  elif command -v nvidia-smi >/dev/null 2>&1; then
    pip_q torch                                   # GPU machine: the ordinary CUDA build
  elif local_torch >/dev/null 2>&1; then
    pip_q torch==2.13.0                           # local CPU wheel found; now its dependencies
  else
    pip_q torch --index-url https://download.pytorch.org/whl/cpu   # CPU-only build
  fi
fi
.venv/bin/python -c "import torch" || { echo "torch failed to install" >&2; exit 1; }
# The package with its dev and trl extras (`make test` runs the TRL engine). The torch installed above, and transformers
# once installed, are pinned to the versions .venv has, so resolving the extras never replaces them (a CPU build by a CUDA one).
pins=$(mktemp); trap 'rm -f "$pins"' EXIT
.venv/bin/python -c "
import importlib.metadata as md
for name in ('torch', 'transformers'):
    try: print(f'{name}=={md.version(name)}')
    except md.PackageNotFoundError: pass" > "$pins"
pip_q -c constraints.txt -c "$pins" -e ".[dev,trl]"
.venv/bin/python -c "import warmstart_kit, nbdev, torch, transformers, trl, datasets; print(f'env ready: torch {torch.__version__}, transformers {transformers.__version__}, trl {trl.__version__}, nbdev {nbdev.__version__}')"
touch .venv/.stamp
