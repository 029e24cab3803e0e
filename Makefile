# warmstart_kit: the two commands a new user needs are `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
OUT ?= runs/demo
PRESET ?= default

.PHONY: docs browser-deps demo test env export check-export check-clean lint nbtest pytest bench clean bases readme results FORCE

$(VENV)/.stamp: settings.ini constraints.txt setup.py tools/setup_env.sh
	bash tools/setup_env.sh

env: $(VENV)/.stamp

## Main job on its built-in default preset: writes $(OUT)/report.html
demo: env
	$(BIN)/warmstart study --preset $(PRESET) --out $(OUT)
	@echo "open $(OUT)/report.html in a browser"

## Every test: export-sync check, clean check, the layer contract and the linter, notebook tests, pytest (one after the other:
## running the notebook tests beside pytest was measured slower on the 2-core machine)
test: env check-export check-clean lint browser-deps nbtest pytest

## The layers (pyproject.toml [tool.importlinter]: no module imports a higher layer, inside functions included) and ruff
## (pyproject.toml [tool.ruff]) over the notebooks, the generated package, the tests, tools and benchmarks
lint: env
	$(BIN)/lint-imports
	$(BIN)/ruff check warmstart_kit nbs tests tools benchmarks

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

## Debian's Chromium + ChromeDriver for the real-browser tests (tests/test_browser.py, test_jupyterlab.py, test_docs_site.py),
## and (docs-deps) the Python packages of the docs site and of the wheel test
browser-deps: docs-deps
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then echo "ok: chromium found"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian chromium + chromium-driver for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "note: chromium/chromedriver missing and apt-get unavailable: the browser test will be skipped"; fi

## Two test processes at a time, one torch thread each: with torch's default (a thread per core) in each, the two
## processes oversubscribe the 2-core machine and spin (measured on pretraining: 17x slower than one thread each)
nbtest: env
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2 --do_print --timing

pytest: env
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadgroup --no-loadscope-reorder --durations=15 tests

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

## Regenerate the shipped base checkpoints of the default and full studies: 5 seeds x 4 doses (about 8 min per base on one core;
## `make -j2 bases` trains two seeds at a time). The tests run the same command at a tiny size (BASE_SIZE, BASE_DIR).
BASE_DIR ?= data/base/addition-pretrain-micro
BASE_SIZE ?= --model-preset micro --tokens 4000000
# torch threads per base: one, so that `make -j2 bases` does not oversubscribe the cores (two processes with two threads
# each trained 17x slower: 34 vs 240 steps a minute on the 2-core machine)
BASE_THREADS ?= 1
BASE_FLAGS := --task addition --task-preset pretrain --dose 0 0.03 0.15 0.6 --flawed-share 0.5 --batch-size 64 --lr 0.003 --warmup 100 --device cpu --quiet
bases: base-seed-0 base-seed-1 base-seed-2 base-seed-3 base-seed-4
FORCE:
base-seed-%: env FORCE
	OMP_NUM_THREADS=$(BASE_THREADS) $(BIN)/warmstart pretrain $(BASE_FLAGS) $(BASE_SIZE) --seed $* --out $(BASE_DIR)/seed-$* --overwrite

## Docs: with Quarto, `nbdev_docs` builds the site from _quarto.yml (via nbs/_quarto.yml). Without Quarto, tools/docs_site.py runs
## nbdev's own notebook processing (show_doc tables and all) and builds the same notebooks into a static site with mkdocs + mkdocs-jupyter
## (mkdocs.yml); either way the site goes to _docs/
docs: docs-deps
	@if command -v quarto >/dev/null; then $(BIN)/nbdev_docs; else \
	  echo "Quarto not found: nbdev's notebook processing + mkdocs (tools/docs_site.py) into _docs/ instead"; \
	  $(BIN)/python tools/docs_site.py --out _docs; fi

## Python packages of the docs site without Quarto (mkdocs, mkdocs-jupyter, mkdocs-material, MathJax for offline math) and of the
## wheel test (build), installed into .venv when missing
.PHONY: docs-deps
DOCS_DEPS := 'mkdocs>=1.6,<2' 'mkdocs-material>=9.5,<10' 'mkdocs-jupyter>=0.25,<0.27' 'jupyter-server-mathjax>=0.2.6' 'build>=1.2'
docs-deps: env
	@$(BIN)/python -c "import mkdocs, material, mkdocs_jupyter, jupyter_server_mathjax, build" 2>/dev/null || \
	  { echo "installing the docs-site and wheel-test packages into $(VENV)"; \
	    if [ -x $(BIN)/uv ]; then fl=""; for d in $${PIP_FIND_LINKS:-}; do fl="$$fl --find-links $$d"; done; \
	      VIRTUAL_ENV=$$PWD/$(VENV) $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python $$fl -c constraints.txt $(DOCS_DEPS); \
	    else $(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt $(DOCS_DEPS) 2>&1 | grep -v "^WARNING: Location" || true; fi; }

## README.md is generated from nbs/index.ipynb (nbdev_readme needs Quarto; nbconvert does the same here, leaving out the
## input of `#| echo: false` cells)
readme: env
	$(BIN)/python tools/readme.py

## The saved result the README quotes: a fresh default study into runs/results, saved as data/results/default_study.json;
## nbs/index.ipynb is re-executed (its default-study section is rendered from that file) and README.md regenerated
results: env
	$(BIN)/warmstart study --preset default --out runs/results --overwrite
	$(BIN)/python tools/results.py save runs/results
	$(BIN)/python tools/exec_nb.py nbs/index.ipynb nbs/index.ipynb && $(BIN)/nbdev_clean --fname nbs/index.ipynb
	$(MAKE) readme
