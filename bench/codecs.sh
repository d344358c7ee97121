#!/usr/bin/env bash
# The codec comparison of docs/CODECS.md: one test binary, run COUNT times
# (default 6) with every codec and peer in each pass, so that load from
# other processes on a shared machine spreads over all contenders instead of
# hitting the ones measured during a burst (which is what -count 6 does, as
# it repeats each benchmark back to back). Each pass runs BenchmarkCodecs
# (encode, decode, round trip of each contender, one after another) and
# BenchmarkPaired (round trips of all contenders interleaved in small
# batches, reporting the issue's target ratios).
#
#	bench/codecs.sh                      # writes /tmp/codecs.txt, docs/codecs.svg
#	COUNT=10 BENCHTIME=2s OUT=/tmp/c.txt bench/codecs.sh
set -euo pipefail
cd "$(dirname "$0")"
count=${COUNT:-6}
out=${OUT:-/tmp/codecs.txt}
benchtime=${BENCHTIME:-1s}
bin=$(mktemp -d)/bench.test
trap 'rm -rf "$(dirname "$bin")"' EXIT

go test -c -o "$bin" .
{
	echo "# nproc: $(nproc); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "# $(go version)"
} >"$out"
for i in $(seq "$count"); do
	echo "pass $i/$count" >&2
	"$bin" -test.run '^$' -test.bench 'Codecs|Paired' -test.benchtime "$benchtime" >>"$out"
done

benchstat=$(command -v benchstat || echo "$(go env GOPATH)/bin/benchstat")
if [ -x "$benchstat" ]; then
	grep -v '^BenchmarkPaired' "$out" >"$out.codecs"
	grep -v '^BenchmarkCodecs' "$out" >"$out.paired"
	"$benchstat" -col /op "$out.codecs"
	"$benchstat" "$out.paired"
else
	echo "benchstat not found: go install golang.org/x/perf/cmd/benchstat@latest" >&2
fi
go run ./cmd/chart -in "$out" -svg ../docs/codecs.svg -md
