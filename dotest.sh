#!/usr/bin/env bash
# Runs a part's tests with tracing on and renders every test's timeline (tools/testlog-viz).
# Works from any directory; see --help.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  cat <<USAGE
Usage: ./dotest.sh <part-folder> [test-name-pattern] [seed]

Runs the tests of <part-folder> whose names match [test-name-pattern] (a vitest -t pattern;
all tests when omitted) with tracing on, under [seed] when given (RAFT_SEED; otherwise each
test's default seed). Then renders each test's trace as a timeline page and prints one line
per test: PASS or FAIL, its name (as -t accepts it) and the file:// address of its page, then
the index of the run. Tests that ran but started no cluster have no page; the index lists them.

Traces and pages go to .traces/<part-folder>/ in the repository (or \$DOTEST_OUT). They
replace the previous run's once this run has something to show: a pattern that matches no
test leaves the previous timelines as they were. Failing tests are rendered too. A part4-kv
test whose history of client operations fails lincheck writes lincheck's page there as well;
its timeline and the index link it. part4-kv's real-process tests keep each run's files in a
folder of their own there, rendered as one merged timeline per run.

Exit status: 0 when every test passed (a test vitest expects to fail counts as passed), 1 when
a test failed (or its trace was cut short, or no test matched), 2 for a usage error.

Part folders: $(part_folders | tr '\n' ' ')
Example: ./dotest.sh part1-election "basic election" 7
USAGE
}

part_folders() {
  for dir in "$root"/part*-*/; do
    [ -f "$dir/package.json" ] && basename "$dir"
  done
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") usage >&2; exit 2 ;;
esac
if [ $# -gt 3 ]; then
  echo "dotest.sh: too many arguments (quote a pattern that contains spaces)" >&2
  exit 2
fi

part="${1%/}"
pattern="${2:-}"
seed="${3:-}"

if [[ "$part" == */* ]] || [ ! -f "$root/$part/package.json" ] || [[ "$part" != part*-* ]]; then
  echo "dotest.sh: unknown part folder '$part'; the part folders are:" >&2
  part_folders | sed 's/^/  /' >&2
  exit 2
fi
if [ -n "$seed" ] && ! [[ "$seed" =~ ^[0-9]+$ ]]; then
  echo "dotest.sh: the seed must be a non-negative integer, not '$seed'" >&2
  exit 2
fi
if [ ! -x "$root/node_modules/.bin/tsx" ]; then
  echo "dotest.sh: dependencies are missing; run 'pnpm install' in $root first" >&2
  exit 2
fi

out="${DOTEST_OUT:-$root/.traces/$part}"
mkdir -p "$(dirname "$out")"
# This run's traces go to a folder of their own first, beside the previous run's, which they
# replace only once a test has run: a mistyped pattern must not cost the reader the last run.
work="$(mktemp -d "$(dirname "$out")/.$(basename "$out").XXXXXX")" || exit 2
trap 'rm -rf "$work"' EXIT

# The tests themselves: their own output stays visible, it explains a failure best. vitest's JSON
# report says which tests ran, so the index can list those that started no cluster (no trace).
cd "$root" || exit 2
vitest_args=(run --reporter=default --reporter=json "--outputFile.json=$work/vitest-report.json")
[ -n "$pattern" ] && vitest_args+=(-t "$pattern")
if [ -n "$seed" ]; then
  RAFT_TRACE_DIR="$work" RAFT_SEED="$seed" pnpm --filter "$part" exec vitest "${vitest_args[@]}"
else
  RAFT_TRACE_DIR="$work" pnpm --filter "$part" exec vitest "${vitest_args[@]}"
fi
vitest_status=$?

shopt -s nullglob
traces=("$work"/*.jsonl "$work"/*/*.jsonl)
if [ -s "$work/vitest-report.json" ]; then
  ran=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(r.numPassedTests + r.numFailedTests);
  ' "$work/vitest-report.json" 2>/dev/null || echo 0)
else
  ran=${#traces[@]}
fi
if [ ${#traces[@]} -eq 0 ] && [ "$ran" = 0 ]; then
  kept=""
  [ -d "$out" ] && kept="; the previous run's timelines are still in $out"
  echo "dotest.sh: no test ran (did '${pattern:-any test}' match a test in $part?)$kept" >&2
  exit 1
fi
rm -rf "$out"
mv "$work" "$out"
trap - EXIT

report="$out/vitest-report.json"
viz_args=(--exit-code --out "$out")
[ -s "$report" ] && viz_args+=(--report "$report")

echo
"$root/node_modules/.bin/tsx" "$root/tools/testlog-viz/src/cli.ts" "${viz_args[@]}" "$out"
render_status=$?

if [ "$vitest_status" -ne 0 ] && [ "$render_status" -eq 0 ]; then
  echo "vitest failed (exit $vitest_status) although every trace ends in PASS; see its output above" >&2
fi
[ "$vitest_status" -eq 0 ] && [ "$render_status" -eq 0 ]
