#!/usr/bin/env bash
# The README's test command: formatting, lints, and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
export SHIPLINT_TOOLS_DIR="${SHIPLINT_TOOLS_DIR:-$PWD/target/tools}"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
# The packaging: workflows (actionlint, schemas), action.yml, the pre-commit hooks (try-repo).
bash .ci/check-packaging.sh
