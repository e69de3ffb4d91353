# Two commands on a fresh machine: `make run` (the mall on an embedded local stack) and `make test`.
# Both create the virtualenv and install what they need first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean browser

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: $(STAMP)
	$(BIN)/python -m tools.local_stack

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# The browser tests (tests/browser) drive Debian's chromium: installed when missing and we are root with apt.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver fonts-dejavu-core; } \
	  || { echo "The browser tests need Chromium: install Debian's chromium package (apt-get install chromium)" >&2; exit 1; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check chalicelib app.py

bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.checkout
	$(BIN)/python -m bench.images
	$(BIN)/python -m bench.slots
	$(BIN)/python -m bench.payouts
	$(BIN)/python -m bench.notifications

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
