# Shortcuts for people who have `just`: each recipe calls the same command the README and CI
# use, so nothing here is needed to run or test redress.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Run all five services in one process, embedded (SQLite, in-process timers).
up *ARGS:
    cargo run --release -p redress -- up {{ARGS}}

# The whole test suite; parts (rust, python, chart) and `-- runner arguments` pass through.
test *ARGS:
    script/test {{ARGS}}

# Format check, clippy with warnings denied, and buf lint on the contract.
lint:
    script/lint

# Format the code.
fmt:
    cargo fmt --all

# Install what the tests need and this machine lacks, and the Python environment.
bootstrap:
    script/bootstrap

# Run a command (or a shell) against the PostgreSQL and Redis the tests use.
services *CMD:
    script/services {{CMD}}

# The Helm chart and kustomize checks alone.
chart:
    script/test chart

# Benchmarks against real PostgreSQL and Redis; each prints its figures. Names pick some.
bench *NAMES:
    script/bench {{NAMES}}
