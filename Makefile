# Every target builds .venv itself, so a fresh machine needs only python3, pip and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/dvcbot demo

test: $(STAMP)
	$(BIN)/dvcbot guides check
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check bot scheduler tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/crash.py
	$(BIN)/python bench/export_latency.py
	$(BIN)/python bench/roster.py
	$(BIN)/python bench/digests.py
	$(BIN)/python bench/announce.py

clean:
	rm -rf $(VENV) build *.egg-info
