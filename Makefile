# warmstart_kit: the two commands a new user needs are `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
OUT ?= runs/demo
PRESET ?= default

.PHONY: docs browser-deps demo test env export check-export check-clean nbtest pytest bench clean bases readme

$(VENV)/.stamp: settings.ini constraints.txt setup.py tools/setup_env.sh
	bash tools/setup_env.sh

env: $(VENV)/.stamp

## Main job on its built-in default preset: writes $(OUT)/report.html
demo: env
	$(BIN)/warmstart study --preset $(PRESET) --out $(OUT)
	@echo "open $(OUT)/report.html in a browser"

## Every test: export-sync check, clean check, notebook tests, pytest
test: env check-export check-clean browser-deps nbtest pytest

export:
	$(BIN)/nbdev_export

check-export: env
	@tmp=$$(mktemp -d); cp -r warmstart_kit $$tmp/before; $(BIN)/nbdev_export; \
	if ! diff -r -x __pycache__ $$tmp/before warmstart_kit >/dev/null; then \
	  diff -r -x __pycache__ $$tmp/before warmstart_kit | head -40; \
	  echo "FAIL: warmstart_kit/ differs from the notebooks (edit nbs/, then run nbdev_export)"; exit 1; fi; \
	echo "ok: library matches notebooks"

check-clean: env
	@tmp=$$(mktemp -d); cp -r nbs $$tmp/before; $(BIN)/nbdev_clean; \
	if ! diff -r --no-dereference $$tmp/before nbs >/dev/null; then diff -rq --no-dereference $$tmp/before nbs; \
	  echo "FAIL: notebooks are not clean (run nbdev_clean and commit)"; exit 1; fi; \
	echo "ok: notebooks clean"

## Debian's Chromium + ChromeDriver for the real-browser test (tests/test_browser.py)
browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then echo "ok: chromium found"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian chromium + chromium-driver for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "note: chromium/chromedriver missing and apt-get unavailable: the browser test will be skipped"; fi

nbtest: env
	$(BIN)/nbdev_test --n_workers 2 --do_print --timing

pytest: env
	$(BIN)/python -m pytest -q tests

bench: env
	$(BIN)/python benchmarks/run.py --size tiny

## CPU benchmark on the trained shipped bases (one thread) against HF generate and TRL; installs the `bench` extra (trl),
## never changing the installed torch / transformers (they are pinned to what .venv has); writes benchmarks/results-cpu.json
.PHONY: bench-cpu bench-gpu
bench-cpu: env
	@pins=$$(mktemp); $(BIN)/python -c "import torch, transformers; print(f'torch=={torch.__version__}'); print(f'transformers=={transformers.__version__}')" > $$pins; \
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -c $$pins -e '.[bench]' 2>&1 | grep -v "^WARNING: Location" || true; rm -f $$pins
	$(BIN)/python -c "import trl; print('trl', trl.__version__)"
	$(BIN)/python benchmarks/run.py --size cpu

## On a lent GPU machine (no .venv, no internet): wheels from tools/gpu_wheels.sh in .whl/, results in $$BENCH_OUT
bench-gpu:
	bash benchmarks/gpu_check.sh

clean:
	rm -rf _docs _proc runs

## Regenerate the base checkpoints the default study ships with (≈ 5 min per dose on 2 CPU cores)
bases: env
	$(BIN)/warmstart pretrain --task addition --task-preset default --model-preset micro \
	    --dose 0 0.1 1 --steps 3000 --batch-size 64 --lr 0.003 --warmup 100 --seed 0 \
	    --device cpu --out data/base/addition-default-micro

## Docs: `nbdev_docs` needs Quarto (uses _quarto.yml via nbs/_quarto.yml); without Quarto, render each notebook to HTML with nbconvert
docs:
	@if command -v quarto >/dev/null; then $(BIN)/nbdev_docs; else \
	  echo "Quarto not found: rendering notebooks with nbconvert into _docs/ instead"; mkdir -p _docs; \
	  for nb in nbs/*.ipynb; do $(BIN)/jupyter nbconvert --to html --log-level WARN "$$nb" --output-dir _docs || exit 1; done; fi

## README.md is generated from nbs/index.ipynb (nbdev_readme needs Quarto; nbconvert does the same here)
readme: env
	$(BIN)/jupyter nbconvert --to markdown nbs/index.ipynb --output-dir . --output README
