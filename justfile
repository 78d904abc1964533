# The one interface to redress: CI calls the same recipes a person does.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Run all five services in one process, embedded (SQLite, in-process timers).
up *ARGS:
    cargo run --release -p redress -- up {{ARGS}}

# Run the whole test suite against real PostgreSQL and Redis.
test: services
    cargo build -p redress
    if cargo nextest --version >/dev/null 2>&1; then \
        cargo nextest run --workspace --no-fail-fast; \
    else \
        cargo test --workspace --no-fail-fast; \
    fi
    python3 -m pytest -q tests/python

# Format check, clippy with warnings denied, and buf lint on the contract.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    cd proto && buf lint

# Format the code.
fmt:
    cargo fmt --all

# Check that PostgreSQL and Redis answer; start the local ones if they do not.
services:
    bash .ci/services

# Validate the Helm chart and the kustomize manifests: the real Helm library lints and
# renders the chart, every object is checked against the Kubernetes schemas, and every
# REDRESS_ variable is one the binary accepts.
chart:
    python3 -m pip install --quiet --disable-pip-version-check --ignore-requires-python -r tests/deploy/requirements.txt
    cargo build -p redress
    python3 -m pytest -q tests/deploy

# Benchmarks against real PostgreSQL and Redis; each prints its figures.
bench: services
    cargo bench -p redress-case --bench create_case
    cargo bench -p redress-intake --bench classify
    cargo bench -p redress-intake --bench submit
    cargo bench -p redress-escalation --bench timers
    cargo bench -p redress-notification --bench deliver
    cargo bench -p redress-analytics --bench analytics
