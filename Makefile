# projchain — two commands on a fresh machine: `make run` and `make test`.
# Everything comes from the package registries (PyPI, npm, Debian); nothing else is downloaded.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP_PY   := $(VENV)/.installed
STAMP_NODE := node_modules/.installed

.PHONY: install run test test-fast bench lint lint-sol typecheck check fonts browser clean-data

install: $(STAMP_PY) $(STAMP_NODE)

$(STAMP_PY): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -c requirements.lock -e '.[dev]'
	touch $@

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Debian packages, installed only when one is not installed (from Debian's registry, nothing else).
# Each must be "ii" (installed): `dpkg -s` also succeeds for a package removed with its
# configuration files left ("rc"), whose files are gone.
apt_ensure = @test -z "$$(dpkg-query -W -f='$${db:Status-Abbrev}\n' $(1) 2>&1 | grep -v '^ii')" \
	|| (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(1))

# Debian's CJK fonts: the node renders the 备案证 and verification certificates with them
# (docs/certificates.md), and `make run` files demo 备案 at start, so the node needs them.
NODE_PKGS := fonts-noto-cjk
fonts:
	$(call apt_ensure,$(NODE_PKGS))

# Debian's chromium for the browser tests (Playwright drives it; no browser download) and
# poppler-utils (pdftoppm, pdftotext) to read the 备案证 PDF back in tests, beside the node's fonts.
BROWSER_PKGS := $(NODE_PKGS) chromium poppler-utils
browser:
	$(call apt_ensure,$(BROWSER_PKGS))

run: install fonts
	$(BIN)/projchain run --demo

test: install browser
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q tests/unit

bench: install fonts
	$(BIN)/python scripts/bench.py

lint: install
	$(BIN)/ruff check node_api bench demo localnode tests scripts
	$(BIN)/ruff format --check node_api bench demo localnode tests scripts
	$(BIN)/lint-imports

# solhint from npm (package.json); rules and every exception: docs/solhint.md. Warnings fail.
lint-sol: $(STAMP_NODE)
	npx --no-install solhint --disc --noPoster --max-warnings 0 'contracts/**/*.sol'

typecheck: install
	$(BIN)/mypy

# What CI runs (.ci/run): every linter (ruff, ruff format, import-linter, solhint), mypy, the whole suite.
check: lint lint-sol typecheck test

clean-data:
	rm -rf data
