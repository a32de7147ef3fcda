# Every target does its own set-up: a fresh machine needs only Python 3.11 (and apt for PostgreSQL
# and Redis, whose server binaries the tests start themselves).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NATIVE := $(VENV)/.native
# The compiled parser modules (scripts/build_native.py) are rebuilt when one of these changes;
# a failed build is a one-line note, and the pure-Python modules are used.
NATIVE_SRC := $(addprefix codeai_lang/syntax/,lexer.py parser.py ast_builder.py tokens.py nodes.py registry.py \
	versioned_parse.py deprecations.py native.py) codeai_lang/format/layout.py codeai_lang/diagnostics/model.py \
	codeai_lang/analysis/decl_checks.py codeai_lang/analysis/expression_checks.py \
	codeai_lang/analysis/script_checks.py codeai_lang/analysis/schema.py codeai_lang/analysis/semantic.py \
	scripts/build_native.py

.PHONY: demo test lint bench fuzz setup clean docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# test-only helpers (tests/codeai_testing) for benchmarks/ and scripts/, never in the wheel
	echo "$(CURDIR)/tests" > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/codeai-testing.pth"
	touch $(STAMP)

$(NATIVE): $(STAMP) $(NATIVE_SRC)
	$(BIN)/python scripts/build_native.py
	touch $(NATIVE)

setup: $(STAMP) $(NATIVE)

## demo: validate the bundled corpus, then show a dry-run migration of it to the newest DSL version
demo: $(STAMP) $(NATIVE)
	./scripts/demo.sh

## test: lint, type-check and run the whole test suite (starts its own PostgreSQL and Redis)
test: $(STAMP) $(NATIVE)
	./scripts/ensure-postgres.sh
	./scripts/ensure-redis.sh
	$(BIN)/ruff check codeai_lang lsp tests benchmarks scripts
	$(BIN)/mypy codeai_lang lsp/codeai_lsp
	$(BIN)/pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check codeai_lang lsp tests benchmarks scripts
	$(BIN)/mypy codeai_lang lsp/codeai_lsp

## fuzz: a minute of each fuzzer (no hang or crash; incremental == full; migration promises)
fuzz: $(STAMP) $(NATIVE)
	for k in validate incremental rewrite; do $(BIN)/python scripts/fuzz.py $$k 60 || exit 1; done

## docs: regenerate docs/diagnostics.md from the code registry (codeai_lang/diagnostics/codes.py)
docs: $(STAMP)
	$(BIN)/python scripts/gen_diagnostics_doc.py

bench: $(STAMP) $(NATIVE)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache codeai_lang/_native
