# One command sets up and runs the main job (`make site`), one runs the tests (`make test`).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# cffconvert pins jsonschema < 4, which the main environment cannot have: it gets its own venv
CFF_VENV := .venv-cff
CFF_STAMP := $(CFF_VENV)/.installed

.PHONY: setup site prerender results test test-quick lint validate benchmark bench-site bench-results references check-references coverage clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	touch $(STAMP)

$(CFF_STAMP):
	$(PYTHON) -m venv $(CFF_VENV)
	$(CFF_VENV)/bin/python -m pip install --quiet "cffconvert>=2,<3"
	touch $(CFF_STAMP)

setup: $(STAMP) $(CFF_STAMP)

## Main job: validate data/, render the site with Quarto if installed, else write results/.
## Quarto: the one on the PATH, else the quarto-cli package in the venv (it downloads Quarto when
## installed, so it needs internet); without either, results/ only, with a message that says so.
site: $(STAMP)
	$(BIN)/metaprop validate data
	@Q=$$(command -v quarto || true); \
	if [ -z "$$Q" ] && [ ! -x $(BIN)/quarto ]; then \
	  echo "quarto is not on the PATH: trying 'pip install quarto-cli' into $(VENV) ..."; \
	  $(BIN)/python -m pip install --quiet quarto-cli > /dev/null 2>&1 || true; \
	fi; \
	[ -z "$$Q" ] && [ -x $(BIN)/quarto ] && Q=$(abspath $(BIN)/quarto); \
	if [ -n "$$Q" ]; then \
	  QUARTO_PYTHON=$(abspath $(BIN)/python) "$$Q" render && echo "Site rendered to _site/ (preview: quarto preview)"; \
	else \
	  echo "Quarto could not be installed (quarto-cli needs internet): writing results/ (JSON, CSV, SVG, PNG) without the site."; \
	  $(BIN)/metaprop results --out results; \
	fi

## Quarto's pre-render step (also run by `quarto render` / `quarto preview` directly).
prerender: $(STAMP)
	$(BIN)/python scripts/pre_render.py

results: $(STAMP)
	$(BIN)/metaprop results --out results

validate: $(STAMP)
	$(BIN)/metaprop validate data

test: $(STAMP) $(CFF_STAMP)
	$(BIN)/ruff check .
	CFFCONVERT=$(abspath $(CFF_VENV)/bin/cffconvert) QUARTO_PYTHON=$(abspath $(BIN)/python) $(BIN)/python -m pytest -q -m "not rref" -n 2 --dist loadfile

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

## The coverage study behind the headline model (about 20 minutes on 2 cores; writes analysis/simulation/).
coverage: $(STAMP)
	$(BIN)/python analysis/simulation/coverage.py

## Prove the committed reference files equal a fresh run of their R scripts (skips without R).
check-references: $(STAMP)
	$(BIN)/python -m pytest -q -m rref

clean:
	rm -rf $(VENV) $(CFF_VENV) results _site .quarto .pytest_cache build
