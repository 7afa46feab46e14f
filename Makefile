# The two commands a newcomer needs: `make run` and `make test` (see README).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/flagconsole
REDIS_URL ?= redis://127.0.0.1:6379/0
# `make run PORT=8001` serves on another port.
PORT ?= 8000
DEMO_FILE ?= var/demo.json

.PHONY: install run test lint bench

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# The console with demo data on the embedded defaults (SQLite, in-process cache, a file-based
# Celery broker): web server, Celery worker and beat together, stopped together with Ctrl-C (or
# SIGTERM). The demo logins and keys are printed once all three have started, and kept in
# $(DEMO_FILE); restarts reuse the same keys.
run: install
	DJANGO_DEBUG=1 $(PY) manage.py migrate --verbosity 0
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo --verbosity 0 --url http://127.0.0.1:$(PORT)/ --output $(DEMO_FILE)
	DJANGO_DEBUG=1 $(PY) manage.py devserver --addr 127.0.0.1:$(PORT) --welcome-file $(DEMO_FILE)

# The whole suite on real PostgreSQL and Redis (started, or installed, when missing).
test: install
	.ci/services
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	.ci/services
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(PY) bench/run_all.py
