#!/usr/bin/env bash
# Train the shipped bases of the given seeds on a lent GPU (the same flags as `make base-seed-N`, with --device cuda),
# one process per seed in parallel, and pack them into one tar file (the device tool brings back at most 8 files):
#
#   BASES_OUT=$OUT bash tools/gpu_bases.sh 1 2          # on the GPU machine, after the wheels of tools/gpu_wheels.sh are installed
#   tar -xf bases.tar -C data/base/addition-pretrain-micro    # here: seed-1/, seed-2/
#
# BASE_SIZE overrides the model size and token budget (default: the Makefile's, micro model, 4M tokens);
# PYTHON the interpreter (default python3). Writes bases.tar and bases.log to $BASES_OUT (default /tmp/bases-out).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUTD=${BASES_OUT:-/tmp/bases-out}; mkdir -p "$OUTD"; OUTD=$(cd "$OUTD" && pwd)
WORK=$(mktemp -d)
SIZE=${BASE_SIZE:---model-preset micro --tokens 4000000}
FLAGS=$(sed -n 's/^BASE_FLAGS := //p' Makefile | sed 's/--device cpu/--device cuda/')
[ -n "${BASES_DEVICE:-}" ] && FLAGS=${FLAGS/--device cuda/--device $BASES_DEVICE}
LOG="$OUTD/bases.log"; : > "$LOG"
t0=$SECONDS
pack() {   # also on a timeout's SIGTERM: keep the bases that finished (a killed run leaves no half-written base: each is renamed into place)
  trap - EXIT TERM INT
  kill $(jobs -p) 2>/dev/null; wait
  echo "after $(( SECONDS - t0 ))s with: pretrain $FLAGS $SIZE" >>"$LOG"
  ( cd "$WORK" && find . -name model.safetensors | sort ) >>"$LOG"
  tar -cf "$OUTD/bases.tar" -C "$WORK" . && echo "packed into $OUTD/bases.tar" >>"$LOG"
  cat "$LOG"; exit 0
}
trap pack EXIT TERM INT
for s in "$@"; do
  # shellcheck disable=SC2086
  "$PY" -c 'import sys; from warmstart_kit.cli.main import main; sys.argv[0] = "warmstart"; main()' pretrain $FLAGS $SIZE \
      --seed "$s" --out "$WORK/seed-$s" >>"$LOG" 2>&1 &
done
wait
