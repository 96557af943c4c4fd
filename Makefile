# One command sets up and runs the main job (`make site`), one runs the tests (`make test`).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# cffconvert pins jsonschema < 4, which the main environment cannot have: it gets its own venv
CFF_VENV := .venv-cff
CFF_STAMP := $(CFF_VENV)/.installed

.PHONY: setup site prerender results test lint validate benchmark references clean

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
site: $(STAMP)
	$(BIN)/metaprop validate data
	@if command -v quarto > /dev/null 2>&1; then \
	  QUARTO_PYTHON=$(abspath $(BIN)/python) quarto render; \
	  echo "Site rendered to _site/"; \
	else \
	  echo "Quarto is not installed: writing results/ (JSON, CSV, SVG, PNG) without the site."; \
	  echo "Install Quarto (https://quarto.org, or 'pip install quarto-cli' on a machine with internet) to render the website."; \
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
	CFFCONVERT=$(abspath $(CFF_VENV)/bin/cffconvert) $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_pool.py

## Regenerate R reference values (needs R with metafor and lme4; not needed for the tests).
references:
	Rscript tests/reference/make_reference.R tests/reference/metafor_reference.json

clean:
	rm -rf $(VENV) $(CFF_VENV) results _site .quarto .pytest_cache build
