#!/usr/bin/env bash
# Download the wheels that benchmarks/gpu_check.sh installs on a lent GPU machine (no internet there).
#
# That machine's image ('cuda': Python 3.12, torch 2.11, transformers 5.17, accelerate, numpy, pandas, pyarrow,
# jinja2, narwhals, pygments, psutil, pyyaml, tqdm, ... see /work/.library/device/KINDS.md) lacks what the
# benchmarks and the gpu-flagged notebook cells need besides torch: polars, altair, nbdev (+ fastcore, execnb,
# IPython), trl and datasets. This script fetches exactly those and the part of their dependency closure the image
# does not have, for CPython 3.12 on manylinux x86_64, into .whl/ (git-ignored), one version of each:
#
#   polars                 1.33.1, not 2.x: polars 2 ships as polars + polars-runtime-32, and the runtime alone is
#                          ~51 MiB (over the budget); 1.33.1 is one ~38 MiB wheel. The package uses nothing polars-2-only
#                          (the --size tiny benchmark and the notebooks run with it: see benchmarks/README.md)
#   altair                 + jsonschema, jsonschema-specifications, referencing, rpds-py; narwhals >= 2.4 (altair 6
#                          needs it; carried because the image's version is not recorded)
#   nbdev (nbdev_test)     + fastcore, execnb, ghapi, fastgit, astunparse, watchdog, asttokens
#   IPython (for execnb)   + ipython-pygments-lexers, matplotlib-inline, traitlets, pexpect, ptyprocess, prompt-toolkit,
#                          wcwidth, stack-data, executing, pure-eval (not jedi + parso, ~5 MiB: IPython only imports
#                          them for tab completion)
#   trl (the GRPO peer)    + datasets, dill, multiprocess
#
# Left out on purpose: vl-convert-python (~33 MiB; PNG/SVG rendering of charts). Without it the notebooks' altair
# charts print a rendering error as cell output instead of an image (the cell still passes), and `run_study`'s HTML
# report, which inlines PNG figures, cannot be written: nbs/experiments/02_warmstart_study.ipynb's gpu cell is skipped by default in
# gpu_check.sh for that reason (and for its length). ipywidgets is left out too (only warmstart_kit.explorers uses it).
#
# Usage:  bash tools/gpu_wheels.sh                 # -> .whl/*.whl, 30 wheels, ~44 MiB
#         WHEEL_PYTHON=3.11 WHEEL_DIR=/tmp/whl311 bash tools/gpu_wheels.sh   # same pins for another Python (dry runs)
# Then:   device run with carry=['.whl'] and command 'BENCH_OUT=$OUT make bench-gpu' (see benchmarks/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${WHEEL_DIR:-.whl}
PYV=${WHEEL_PYTHON:-3.12}
MAX_MIB=${WHEEL_MAX_MIB:-50}
PIP_PY=$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )

WHEELS=(
  polars==1.33.1
  altair==6.3.0 jsonschema==4.26.0 jsonschema-specifications==2025.9.1 referencing==0.37.0 rpds-py==2026.9.1 narwhals==2.29.0
  nbdev==2.4.14 fastcore==1.14.5 execnb==0.1.18 ghapi==1.1.1 fastgit==0.1.4 astunparse==1.6.3 watchdog==7.1.0 asttokens==3.0.2
  ipython==9.18.1 ipython-pygments-lexers==1.1.1 matplotlib-inline==0.2.2 traitlets==5.16.1
  pexpect==4.9.0 ptyprocess==0.7.0 prompt-toolkit==3.0.53 wcwidth==0.9.4 stack-data==0.6.3 executing==2.3.0 pure-eval==0.2.4
  trl==1.16.0 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19
)
PLATFORMS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux2014_x86_64 --platform manylinux1_x86_64)

mkdir -p "$DEST"
rm -f "$DEST"/*.whl                                    # one version of each: two would stop the whole install there
"$PIP_PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: --python-version "$PYV" \
    --implementation cp "${PLATFORMS[@]}" -d "$DEST" "${WHEELS[@]}" 2>&1 | grep -v "^WARNING: Location" || true

n=$(ls "$DEST"/*.whl 2>/dev/null | wc -l)
if [ "$n" -ne "${#WHEELS[@]}" ]; then
  echo "FAIL: expected ${#WHEELS[@]} wheels in $DEST, found $n" >&2; exit 1
fi
# every wheel installs for CPython $PYV on that platform (what gpu_check.sh does there, minus the interpreter)
chk=$(mktemp -d)
"$PIP_PY" -m pip install -q --disable-pip-version-check --no-index --no-deps --no-compile --only-binary=:all: \
    --python-version "$PYV" --implementation cp "${PLATFORMS[@]}" --target "$chk" "$DEST"/*.whl 2>&1 | grep -v "^WARNING: Location" || true
rm -rf "$chk"
mib=$(du -sm "$DEST" | cut -f1)
echo "$n wheels for CPython $PYV in $DEST: ${mib} MiB"
if [ "$mib" -gt "$MAX_MIB" ]; then echo "FAIL: ${mib} MiB is over the ${MAX_MIB} MiB budget (the whole tree that travels must stay under 64 MiB)" >&2; exit 1; fi
if [ "$DEST" = .whl ] && ! git check-ignore -q .whl/x.whl 2>/dev/null; then
  echo "/.whl/" >> .git/info/exclude; echo "added /.whl/ to .git/info/exclude"
fi
