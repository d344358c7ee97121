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
# Results are kept per Go version (major.minor), so the comparison can be
# shown for every supported one: the raw output in /tmp/codecs-go1.NN.txt
# (and its Markdown tables in .md), the chart in docs/codecs-go1.NN.svg.
#
#	bench/codecs.sh                      # the go on PATH
#	GOTOOLCHAIN=go1.27.3 bench/codecs.sh # Go 1.27 (fetched by the go command)
#	COUNT=10 BENCHTIME=2s OUT=/tmp/c.txt bench/codecs.sh
set -euo pipefail
cd "$(dirname "$0")"
minor=$(go env GOVERSION | sed -E 's/^(go[0-9]+\.[0-9]+).*/\1/')
count=${COUNT:-6}
out=${OUT:-/tmp/codecs-$minor.txt}
svg=../docs/codecs-$minor.svg
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
go run ./cmd/chart -in "$out" -svg "$svg" -md | tee "$out.md"
echo "wrote $out, $out.md and docs/${svg#../docs/}" >&2
