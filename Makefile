# The two commands of the README:
#   make run    set everything up, run the platform on the embedded broker with demo data
#   make test   set everything up, run the whole test suite (what CI runs)

# uv from PATH, else as a module (installed on first use).
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)
export UV_COMPILE_BYTECODE := 1

.PHONY: setup run demo run-kafka engine lint contract test test-unit test-integration bench schemas

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet "uv>=0.5"
	$(UV) sync --all-packages --frozen

## run: the embedded stack (Tansu broker, SQLite per service) seeded with a demo
## declaration and a demo district at 2% of the office's scale (about a minute)
DISTRICT_SCALE ?= 0.02
run: setup
	REGISTRATION_DEMO_DISTRICT_SCALE=$(DISTRICT_SCALE) $(UV) run devstack run --seed

## demo: the same stack, drive a declaration end to end, shut down; exit 0 on success
demo: setup
	$(UV) run devstack run --smoke

## run-kafka: the local real stack (Apache Kafka from its jars, PostgreSQL)
run-kafka: setup
	REGISTRATION_DEMO_DISTRICT_SCALE=$(DISTRICT_SCALE) $(UV) run devstack run --broker kafka --db postgres --seed

## engine: a Docker engine, its compose/buildx plugins and the local base images where no
## image registry answers (then: eval "$$(uv run devstack engine env)"; see README "Containers")
engine: setup
	$(UV) run devstack engine up

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

contract: setup
	$(UV) run python -m common.contract check

schemas: setup
	$(UV) run python -m common.contract write

test: lint contract
	$(UV) run pytest

test-unit: setup
	$(UV) run pytest -m "not integration"

test-integration: setup
	$(UV) run pytest -m integration

bench: setup
	$(UV) run python bench/declarations.py
