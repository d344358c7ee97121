#!/usr/bin/env bash
# Runs every test of the repository: formatting, vet, the race-enabled unit
# and end-to-end tests of the root module and each nested module, a bounded
# fuzz run of every parser, and (when its tools are present) the fleet test.
#
# Peer tests (Python, Node, Chromium, nginx) skip when their tools are
# missing, unless the matching variable is 1, which turns a missing tool into
# a failure (.ci/run sets them all):
#   SEALED_INTEROP=1  real Starlette, Flask, Auth.js, iron-session, jose peers
#   SEALED_BROWSER=1  headless Chromium via chromedriver
#   SEALED_FLEET=1    three demo servers behind nginx with a rolling rotation
# FUZZTIME (default 10s) bounds each fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-10s}
status=0 passed=0 failed=0
step() { printf '\n== %s\n' "$*"; }
# check runs a command as one counted check.
check() {
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
}

step "gofmt"
unformatted=$(gofmt -l . | grep -v '/node_modules/' || true)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

# Every module: the root and the nested ones (adapters, comparisons).
modules=$(find . -name go.mod -not -path '*/node_modules/*' -exec dirname {} \; | sort)
for m in $modules; do
	step "go vet + go test -race in $m"
	check bash -c "cd '$m' && go vet ./... && go test -race -count=1 ./..."
done

if command -v staticcheck >/dev/null; then
	for m in $modules; do
		step "staticcheck in $m"
		check bash -c "cd '$m' && staticcheck ./..."
	done
else
	step "staticcheck skipped: not installed (go install honnef.co/go/tools/cmd/staticcheck@v0.8.2)"
fi

step "allocation tests without -race (the race detector defeats sync.Pool)"
check go test -count=1 -run 'Allocations' .

step "fuzz (${fuzztime} each)"
for pkg in $(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v node_modules | xargs -n1 dirname | sort -u); do
	for target in $(grep -h '^func Fuzz' "$pkg"/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do
		echo "-- $pkg $target"
		check go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
	done
done

if [ -x test/fleet/run.sh ]; then
	if [ "${SEALED_FLEET:-}" = 1 ] || command -v nginx >/dev/null; then
		step "fleet test"
		check test/fleet/run.sh
	else
		step "fleet test skipped: nginx not installed (set SEALED_FLEET=1 to require it)"
	fi
fi

echo
echo "checks: $passed passed, $failed failed"
exit $status
