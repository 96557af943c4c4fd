# One command sets up and runs the main job (`make site`), one runs the tests (`make test`).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SITE_STAMP := $(VENV)/.installed-site
QUARTO_VERSION := 1.10.18
# cffconvert pins jsonschema < 4, which the main environment cannot have: it gets its own venv
CFF_VENV := .venv-cff
CFF_STAMP := $(CFF_VENV)/.installed

.PHONY: setup site prerender results test test-quick lint validate benchmark bench-site bench-results references check-references coverage clean

# the test environment (the core, Jupyter for Quarto's engine, pytest, Playwright, linters)
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	touch $(STAMP) $(SITE_STAMP)

# what rendering needs, and no more: the core and Jupyter for Quarto's engine (a subset of the above)
$(SITE_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[render]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	touch $(SITE_STAMP)

$(CFF_STAMP):
	$(PYTHON) -m venv $(CFF_VENV)
	$(CFF_VENV)/bin/python -m pip install --quiet "cffconvert>=2,<3"
	touch $(CFF_STAMP)

setup: $(STAMP) $(CFF_STAMP)

## Main job: validate data/, render the site with Quarto if installed, else write results/.
## Quarto: the one on the PATH, else the quarto-cli package (Quarto $(QUARTO_VERSION), the version the tests
## use) in the venv, tried once (it downloads Quarto when installed, so it needs internet); without
## either, results/ only, with one message that says why and what to open.
site: $(SITE_STAMP)
	$(BIN)/metaprop validate data
	@Q=$$(command -v quarto || true); \
	if [ -z "$$Q" ] && [ ! -x $(BIN)/quarto ] && [ ! -f $(VENV)/quarto-cli-install.log ]; then \
	  echo "quarto is not on the PATH: trying 'pip install quarto-cli==$(QUARTO_VERSION)' into $(VENV) (once) ..."; \
	  $(BIN)/python -m pip install "quarto-cli==$(QUARTO_VERSION)" > $(VENV)/quarto-cli-install.log 2>&1 || true; \
	fi; \
	[ -z "$$Q" ] && [ -x $(BIN)/quarto ] && Q=$(abspath $(BIN)/quarto); \
	if [ -n "$$Q" ]; then \
	  QUARTO_PYTHON=$(abspath $(BIN)/python) "$$Q" render && echo "Site rendered: open _site/index.html (or run 'quarto preview')"; \
	else \
	  echo "Quarto is not installed: 'pip install quarto-cli==$(QUARTO_VERSION)' failed ($$(grep -m 1 -E '^ *ERROR:' $(VENV)/quarto-cli-install.log | sed 's/^ *//'); quarto-cli downloads Quarto while it installs, which needs internet access). Full log: $(VENV)/quarto-cli-install.log (delete it to try again), or install Quarto $(QUARTO_VERSION) from quarto.org and run make site again."; \
	  echo "Writing the same analysis to results/ instead (JSON, CSV, SVG, PNG) ..."; \
	  $(BIN)/metaprop results --out results && echo "Open results/README.md first: what each file holds, column by column."; \
	fi

## Quarto's pre-render step (also run by `quarto render` / `quarto preview` directly).
prerender: $(SITE_STAMP)
	$(BIN)/python scripts/pre_render.py

results: $(SITE_STAMP)
	$(BIN)/metaprop results --out results

validate: $(SITE_STAMP)
	$(BIN)/metaprop validate data

test: $(STAMP) $(CFF_STAMP)
	$(BIN)/ruff check .
	CFFCONVERT=$(abspath $(CFF_VENV)/bin/cffconvert) QUARTO_PYTHON=$(abspath $(BIN)/python) $(BIN)/python -m pytest -q -m "not rref" -n 2 --dist loadfile --no-loadscope-reorder

## The quick loop: engine, data and CLI tests, without the page runs and the Quarto render.
test-quick: $(STAMP)
	$(BIN)/python -m pytest -q -m "core and not slow" -n 2

lint: $(STAMP)
	$(BIN)/ruff check .

## Engine against R metafor, in-process and whole-process, idle and busy (benchmarks/engine.{json,md}).
benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

## How `metaprop results` and results/ grow with 7, 10, 14 and 20 candidate studies (benchmarks/results_scaling.{json,md}).
bench-results: $(STAMP)
	$(BIN)/python benchmarks/bench_results.py

## Time a full `quarto render` (cold: build cache cleared), written to benchmarks/site_render.json.
bench-site: $(STAMP)
	$(BIN)/python benchmarks/bench_site.py

## R references (needs R with metafor, lme4 and R meta 8.3: tests/reference/README.md).
references:
	Rscript tests/reference/make_reference.R tests/reference/metafor_reference.json
	Rscript tests/reference/make_meta_reference.R tests/reference/meta_reference.json
	Rscript tests/reference/make_glmm_profile.R tests/reference/glmm_profile_reference.json
	Rscript tests/reference/make_bayesmeta_reference.R tests/reference/bayesmeta_reference.json

## The coverage study behind the headline model (about an hour on 2 cores: 78 min on 2026-12-04 beside other work; writes analysis/simulation/).
coverage: $(STAMP)
	$(BIN)/python analysis/simulation/coverage.py

## Prove the committed reference files equal a fresh run of their R scripts (skips without R).
check-references: $(STAMP)
	$(BIN)/python -m pytest -q -m rref

clean:
	rm -rf $(VENV) $(CFF_VENV) results _site .quarto .pytest_cache build
