# Everything runs from the project's own files: .venv/ and .comfyui/ are created on first use.
PY := .venv/bin/python
MODELS ?=

.PHONY: setup demo serve test lint unit bench clean web web-check

setup:
	@bash scripts/setup_env.sh

demo: setup
	@$(PY) scripts/demo.py $(if $(MODELS),--models "$(MODELS)")

serve: setup
	@$(PY) scripts/serve.py $(if $(MODELS),--models "$(MODELS)")

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy services
	$(PY) scripts/typecheck_nodes.py

test: setup lint web-check
	$(PY) -m pytest tests

# The editor extension: web/src (TypeScript) builds into the committed bundle web/js/.
web: setup
	npm run --silent build

web-check: setup
	npm run --silent check

unit: setup
	$(PY) -m pytest tests -m unit

bench: setup
	$(PY) bench/hashing.py
	$(PY) bench/analysis.py
	$(PY) bench/library_scale.py
	$(PY) bench/save.py
	$(PY) bench/overhead.py

clean:
	rm -rf .venv .comfyui .cache node_modules
