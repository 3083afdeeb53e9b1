#!/usr/bin/env bash
# The README's test command: formatting, lints, and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
export SHIPLINT_TOOLS_DIR="${SHIPLINT_TOOLS_DIR:-$PWD/target/tools}"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
# The fuzz crate has its own workspace: a compile check keeps its targets in
# step with the library (~70 s cold). Fuzzing itself is run by hand (fuzz/README.md).
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/fuzz-check" \
  cargo check --locked --manifest-path fuzz/Cargo.toml --bins
# The packaging: workflows (actionlint, schemas), action.yml, the pre-commit hooks (try-repo).
bash .ci/check-packaging.sh
