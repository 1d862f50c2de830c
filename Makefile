# Espace Partenaires — set-up, run and test on a fresh machine (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint services bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## make run: installe, migre, charge les données de démonstration et sert le portail.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo_data
	$(PY) manage.py run_jobs  # without Redis, the scheduled jobs run here once at start
	@echo "Portail : http://$(HOST):$(PORT)/  (back-office : http://$(HOST):$(PORT)/admin/)"
	$(PY) manage.py runserver $(HOST):$(PORT)

## make services: démarre PostgreSQL, Redis, clamd, SeaweedFS (S3), PgBouncer et installe Chromium si besoin.
services:
	scripts/services.sh up

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

## make test: installe, démarre les services, puis ruff, makemigrations --check et toute la suite pytest.
test: install services lint
	$(VENV)/bin/pytest --create-db

## make bench: banc de mesure des performances, hors de `make test` ; SIZE="100k 1m" pour les deux tailles.
SIZE ?= 100k
BENCH_ARGS ?=
bench: install services
	$(PY) -m bench.run $(foreach size,$(SIZE),--size $(size)) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .services db.sqlite3 private-media staticfiles .bench .pytest_cache .ruff_cache
