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

# Benchmarks against real PostgreSQL and Redis; each prints its figures.
bench: services
    cargo bench -p redress-case --bench create_case
    cargo bench -p redress-intake --bench classify
    cargo bench -p redress-escalation --bench timers
