# traction: `make report` runs the main job, `make test` runs the suite.
# Both create .venv from requirements.lock on first use; nothing else is needed.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Per-cell limit for nbval (seconds): a hung cell fails the run instead of eating CI.
CELL_TIMEOUT ?= 600

.PHONY: install report test test-unit test-notebooks test-slow validate validate-reduced lab bench bench-turkey report-screenshot lock clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

report: $(STAMP)
	$(BIN)/traction run

test: test-unit test-notebooks

# On every core (pytest-xdist), a test file to a worker so its module fixtures are built once: 12.6 min to 7.2 min
# on 2 cores (7 December 2026).
test-unit: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile tests

# Notebooks run on the small simulated sample, in file-name order, in this venv's kernel.
test-notebooks: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=$(CELL_TIMEOUT) -o addopts="" notebooks

# Slow statistical checks on fresh seeds (about 20 min on 2 cores; duration in docs/statistics.md).
test-slow: $(STAMP)
	nice $(BIN)/python -m pytest -q -m slow tests

# The validation battery on fresh seeds (hours; not in CI): writes validation/coverage.json and the
# coverage table of docs/statistics.md. A rerun resumes from validation/runs/.
VALIDATE_REPS ?= 100
validate: $(STAMP)
	nice $(BIN)/python validation/battery.py --phase fresh --reps $(VALIDATE_REPS) --population-reps 200 --write-docs
	nice $(BIN)/python validation/battery.py --phase diagnose --reps 50 --sizes 3000 --population-reps 0
	nice $(BIN)/python validation/battery.py --phase confirm --reps 50 --sizes 3000 --population-reps 0 --write-docs
	$(MAKE) validate-reduced

# Issue 24's cells on fresh seeds (600001 on; 3,000 accounts of the IRA design unless named), one JSON line per cell
# in validation/reduced.jsonl (written aside, then moved), and their tables in validation/reduced.md: the shape
# check's alarms and power, claim 4 under no association (seeds 640001 on: its rule changed after 600001-600100)
# and with one, batches (by creation week or day, and by coordination group; week against day), and the score test
# within tweet strata's size and power.
REDUCED_REPS ?= 100
POWER_REPS ?= 50
REDUCED := nice $(BIN)/python validation/reduced.py
validate-reduced: $(STAMP)
	{ $(REDUCED) shape 600001 $(REDUCED_REPS) ira:nb2:0.3:log_linear ira:lognormal:0.3:log_linear \
		ira:simulator:0.3:log_linear synthetic:nb2:0.3:log_linear synthetic:lognormal:0.3:log_linear \
		ira:nb2:0:step ira:lognormal:0:step ira:simulator:0:step synthetic:nb2:0:step && \
	  $(REDUCED) claim4 640001 $(REDUCED_REPS) ira:nb2:0 ira:simulator:0 ira:lognormal:0 ira:nb_dispersion:0 \
		ira:variance_power:0 ira:zero_inflated:0 synthetic:nb2:0 synthetic:simulator:0 synthetic:lognormal:0 && \
	  $(REDUCED) claim4 640001 $(POWER_REPS) ira:nb2:0.3 ira:lognormal:0.3 ira:zero_inflated:0.3 synthetic:nb2:0.3 \
		ira:nb2:0:step && \
	  $(REDUCED) batches 600001 $(REDUCED_REPS) ira:nb2:0.3:25:1:followers ira:nb2:0:25:1:followers \
		ira:nb2:0.3:25:0.25:followers ira:nb2:0.3:25:1:random ira:nb2:0.3:5:1:followers ira:nb2:0.3:25:0:random \
		ira:simulator:0.3:25:1:followers ira:nb2:0:25:1:random && \
	  $(REDUCED) batches 600001 $(REDUCED_REPS) ira:nb2:0.3:25:1:followers:group ira:nb2:0:25:1:followers:group \
		ira:nb2:0.3:25:1:followers:half ira:nb2:0.3:25:1:random:group ira:nb2:0.3:25:0:random:group \
		ira:nb2:0:25:1:random:group && \
	  $(REDUCED) definition 620001 $(REDUCED_REPS) ira:nb2:0.3:25:1:followers:1 ira:nb2:0.3:25:1:followers:3 \
		ira:nb2:0.3:25:1:followers:7 ira:nb2:0.3:25:1:random:3 ira:nb2:0.3:25:1:random:7 \
		ira:nb2:0.3:25:0.25:followers:3 ira:nb2:0:25:1:followers:3 ira:nb2:0.3:25:0:random:3 && \
	  $(REDUCED) exposure 600001 $(REDUCED_REPS) ira:nb2:0 ira:simulator:0 ira:lognormal:0 ira:nb_dispersion:0 \
		ira:variance_power:0 ira:zero_inflated:0 synthetic:nb2:0 synthetic:simulator:0 synthetic:lognormal:0 \
		ira:nb2:0.3 ira:lognormal:0.3 ira:nb2:0:step synthetic:nb2:0.3; } > validation/reduced.jsonl.part
	mv validation/reduced.jsonl.part validation/reduced.jsonl
	$(BIN)/python validation/reduced_tables.py validation/reduced.jsonl > validation/reduced.md.part
	mv validation/reduced.md.part validation/reduced.md

lab: $(STAMP)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (traction)"
	$(BIN)/jupyter lab notebooks

# Ingest at 0.35M, 3.5M and 10.5M tweets against DuckDB's typed copy and pandas, then `traction run`.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# The optional Turkey size (37M tweets, 16 GB of CSV, removed afterwards): ingest and notebook 02, niced.
bench-turkey: $(STAMP)
	nice $(BIN)/python benchmarks/run.py --scales 106 --notebook-02 --no-run $(BENCH_ARGS)

report-screenshot: $(STAMP)
	$(BIN)/python -m helpers.report.browser reports/index.html reports/screenshot.png

# Regenerate requirements.lock from pyproject.toml in a clean venv.
lock:
	rm -rf /tmp/traction-lock && $(PYTHON) -m venv /tmp/traction-lock
	/tmp/traction-lock/bin/pip install --quiet .
	{ echo "# Exact versions installed by 'make' (generated from pyproject.toml in a clean venv; see README)."; \
	  echo "# Python 3.11"; \
	  /tmp/traction-lock/bin/pip freeze --exclude-editable | grep -v '^traction'; } > requirements.lock

clean:
	rm -rf $(VENV) data reports/*/ reports/index.html reports/*.png .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
