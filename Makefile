# Every target builds .venv itself, so a fresh machine needs only python3, pip and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench clean

RUN_STAMP := $(VENV)/.installed-run
LOG := $(VENV)/install.log

# The bot alone (what `make demo` needs): quiet, the pip output goes to .venv/install.log.
$(RUN_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Cần Python 3.11 trở lên (python3 --version)."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
		{ echo "Không tạo được .venv: cần gói venv của Python (Debian/Ubuntu: sudo apt install python3-venv)."; exit 1; }
	@echo "Đang cài đặt (lần đầu 1–3 phút; nhật ký: $(LOG))…"
	@$(BIN)/python -m pip install --quiet --upgrade pip > $(LOG) 2>&1 && \
		$(BIN)/python -m pip install --quiet -e . >> $(LOG) 2>&1 || \
		{ tail -n 30 $(LOG); echo "Cài đặt lỗi; xem $(LOG)."; exit 1; }
	@touch $(RUN_STAMP)

# Plus the test and lint tools.
$(STAMP): $(RUN_STAMP)
	@$(BIN)/python -m pip install --quiet -e '.[test,lint]' >> $(LOG) 2>&1 || \
		{ tail -n 30 $(LOG); echo "Cài đặt lỗi; xem $(LOG)."; exit 1; }
	@touch $(STAMP)

install: $(STAMP)

demo: $(RUN_STAMP)
	@$(BIN)/dvcbot demo

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
	$(BIN)/python bench/zalo.py

clean:
	rm -rf $(VENV) build *.egg-info
