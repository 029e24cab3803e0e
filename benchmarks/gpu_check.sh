#!/usr/bin/env bash
# One command for a lent GPU machine (H100 / H200; torch + transformers installed, no internet, no .venv):
#   1. installs the wheels of tools/gpu_wheels.sh (.whl/*.whl) into $WHEEL_SITE (default /tmp/site), no index, no deps;
#   2. runs `benchmarks/run.py --size full` alone on the GPU;
#   3. runs the gpu-flagged notebook cells: `nbdev_test --flags gpu --path nbs/X.ipynb` (called from Python) for
#      every notebook with a `#| gpu` cell (found with grep), in parallel, each under `timeout`;
# all inside $GPU_CHECK_BUDGET_S seconds (default 470: under 8 minutes), writing to $BENCH_OUT (default
# benchmarks/gpu-results): gpu_check.log (environment + summary), bench.txt (the tables), bench.log (progress),
# results-<gpu>.json, nb-<notebook>.log. At most 8 files, so that the device tool brings all of them back.
#
#   BENCH_OUT=$OUT make bench-gpu                        # on the GPU machine; carry .whl (see benchmarks/README.md)
#   BENCH_DRY_RUN=1 PYTHON=.venv/bin/python WHEEL_DIR=/tmp/whl311 bash benchmarks/gpu_check.sh   # plumbing, on a CPU
#
# BENCH_DRY_RUN=1 runs `--size tiny` instead of `--size full` and the notebooks without `--flags gpu` (their gpu
# cells skipped), so the plumbing can be checked on a CPU. Other knobs: PYTHON (default python3), WHEEL_DIR (.whl),
# GPU_BENCH_TIMEOUT_S (default 240), GPU_NB_SKIP (default experiments/02_warmstart_study.ipynb: its gpu cell trains a whole study, far
# longer than the budget, and writes a report with PNG figures, which needs vl-convert-python; set GPU_NB_SKIP= to
# include it), GPU_NOTEBOOKS (an explicit list instead of the grep), GPU_BENCH_ONLY (run.py's --only).
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
PY=${PYTHON:-python3}
DRY=${BENCH_DRY_RUN:-0}
BUDGET=${GPU_CHECK_BUDGET_S:-470}
BENCH_TIMEOUT=${GPU_BENCH_TIMEOUT_S:-240}
WHEELS=${WHEEL_DIR:-.whl}
SITE=${WHEEL_SITE:-/tmp/site}
NB_SKIP=${GPU_NB_SKIP-experiments/02_warmstart_study.ipynb}
OUT=${BENCH_OUT:-benchmarks/gpu-results}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
LOG="$OUT/gpu_check.log"; : > "$LOG"
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
t0=$SECONDS
say() { echo "[gpu_check $(( SECONDS - t0 ))s] $*" | tee -a "$LOG"; }
left() { echo $(( BUDGET - (SECONDS - t0) )); }

# ---- 1. wheels
if ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  rm -rf "$SITE"
  if "$PY" -m pip install -q --disable-pip-version-check --no-index --no-deps --no-compile --no-cache-dir --upgrade \
       --target "$SITE" "$WHEELS"/*.whl >>"$LOG" 2>&1; then
    say "installed $(ls "$WHEELS"/*.whl | wc -l) wheels from $WHEELS into $SITE"
  else
    say "FAILED to install the wheels from $WHEELS (see above); going on with what $PY has"
  fi
  export PYTHONPATH="$SITE:$REPO${PYTHONPATH:+:$PYTHONPATH}"
else
  say "no wheels in $WHEELS (run tools/gpu_wheels.sh where pip works and carry .whl): using what $PY has"
  export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
fi

# ---- environment (into the log)
{
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  "$PY" - <<'EOF'
import importlib, platform, sys
print('python', platform.python_version(), sys.executable)
for m in ('torch', 'transformers', 'accelerate', 'polars', 'altair', 'nbdev', 'execnb', 'IPython', 'trl', 'datasets', 'vl_convert'):
    try: mod = importlib.import_module(m); print(f'{m:<12} {getattr(mod, "__version__", "?"):<14} {getattr(mod, "__file__", "")}')
    except Exception as e: print(f'{m:<12} MISSING ({type(e).__name__}: {str(e)[:120]})')
import torch; print('cuda available:', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')
EOF
} >>"$LOG" 2>&1

# ---- 2. the benchmark, alone on the device
SIZE=full; NB_FLAGS=gpu
if [ "$DRY" = 1 ]; then SIZE=tiny; NB_FLAGS=; say "DRY RUN: --size tiny, notebooks without --flags gpu"; fi
bt=$(( $(left) - 60 )); [ "$bt" -lt 30 ] && bt=30   # leave 60 s of the budget to the notebooks (`timeout 0` = no limit)
[ "$BENCH_TIMEOUT" -lt "$bt" ] && bt=$BENCH_TIMEOUT
say "run.py --size $SIZE (timeout ${bt}s)"
timeout -k 10 "$bt" "$PY" benchmarks/run.py --size "$SIZE" ${GPU_BENCH_ONLY:+--only "$GPU_BENCH_ONLY"} --json-dir "$OUT" --tmp "${TMPDIR:-/tmp}" >"$OUT/bench.txt" 2>"$OUT/bench.log"
brc=$?
case $brc in
  0) bstat=ok ;; 124|137) bstat="TIMEOUT after ${bt}s (partial JSON: rows of the finished benchmarks)" ;; *) bstat="FAILED rc=$brc" ;;
esac
say "run.py: $bstat"

# ---- 3. the gpu-flagged notebook cells, in parallel
if [ -n "${GPU_NOTEBOOKS:-}" ]; then NBS=($GPU_NOTEBOOKS)
else mapfile -t NBS < <(grep -rl '#| gpu' nbs --include='*.ipynb' | sort); fi
RUN=(); for nb in "${NBS[@]}"; do
  base=${nb#nbs/}
  if [[ " $NB_SKIP " == *" $base "* ]]; then say "skipped $base (GPU_NB_SKIP)"; else RUN+=("$nb"); fi
done
nt=$(( $(left) - 10 ))
[ "$nt" -lt 30 ] && nt=30
say "notebooks (${#RUN[@]}, in parallel, timeout ${nt}s each): ${RUN[*]}"
declare -A PIDS
for nb in "${RUN[@]}"; do
  name=$(echo "${nb#nbs/}" | sed 's#/#__#g; s#\.ipynb$##')
  # nbdev_test called with keyword arguments: from `python -c` its command-line parsing would ignore --path
  timeout -k 10 "$nt" "$PY" -c 'import sys; from nbdev.test import nbdev_test
nbdev_test(path=sys.argv[1], flags=sys.argv[2], do_print=True, timing=True)' "$nb" "$NB_FLAGS" >"$OUT/nb-$name.log" 2>&1 &
  PIDS[$nb]=$!
done
fails=0; timeouts=0
for nb in "${RUN[@]}"; do
  wait "${PIDS[$nb]}"; rc=$?
  case $rc in
    0) st=PASS ;; 124|137) st="TIMEOUT after ${nt}s"; timeouts=$((timeouts + 1)) ;; *) st="FAIL rc=$rc"; fails=$((fails + 1)) ;;
  esac
  say "${nb#nbs/}: $st (log: nb-$(echo "${nb#nbs/}" | sed 's#/#__#g; s#\.ipynb$##').log)"
done

# ---- summary
{
  echo; echo "==== run.py --size $SIZE: $bstat"
  if [ -s "$OUT/bench.txt" ]; then cat "$OUT/bench.txt"
  else                                     # timed out or crashed: the table of what the partial JSON holds
    tail -20 "$OUT/bench.log"
    "$PY" - "$OUT" <<'PYEOF'
import importlib.util, json, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location('bench_run', 'benchmarks/run.py'); b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b)
for p in sorted(Path(sys.argv[1]).glob('results-*.json')):
    r = json.loads(p.read_text()); print(f'partial results in {p.name}:'); print(b.table(r['meta'], r['rows']))
    if r.get('summary'): print('\n' + b.summary_table(r['summary']))
PYEOF
  fi
} | tee -a "$LOG"
say "done in $(( SECONDS - t0 ))s: benchmark $bstat; notebooks ${#RUN[@]} run, $fails failed, $timeouts timed out; files in $OUT"
[ "$brc" = 0 ] && [ "$fails" = 0 ] && [ "$timeouts" = 0 ]
