#!/usr/bin/env bash
# HTTP throughput with a session read on every request (docs/PERFORMANCE.md):
# the same handler with (a) no session, (b) sealed's middleware with its
# default JSON codec, (b') the same with sealed.Binary, (c) gorilla/sessions'
# CookieStore, on loopback. The servers share core 0
# (GOMAXPROCS=1), wrk runs on core 1, and the modes are interleaved round by
# round so that load from other processes hits all three alike. The "none"
# server receives the same Cookie header as the sealed one.
#
#	bench/http/run.sh                         # 8 rounds of 5 s per mode
#	ROUNDS=12 DURATION=10s CONNS=32 bench/http/run.sh
#	BASE=/tmp/server-before bench/http/run.sh # also "sealed-base": the sealed
#	                                          # mode of another build, in the same rounds
#	PAIRS="sealed:none sealed:gorilla" bench/http/run.sh
#	                                          # each pair's two modes at once (below)
#
# Build the BASE server from another checkout (git worktree add /tmp/before
# COMMIT; cd /tmp/before/bench && go build -o /tmp/server-before ./http/server)
# to measure a change to the library within one run; GOTOOLCHAIN selects
# the Go version of both builds the script makes.
#
# Ratios are computed round by round (modes measured seconds apart) and
# their median reported, which is steadier on a shared machine than the
# ratio of the modes' medians. Besides wrk's requests per second, the script
# reports the server's CPU time per request (utime + stime from /proc over
# the requests wrk completed): other processes on the machine lower the
# request rate but hardly change the CPU a request costs, so the ratio of
# CPU per request is the throughput ratio one dedicated core would show.
#
# On a machine shared with other jobs, load comes and goes within seconds,
# so even interleaved rounds measure modes in different conditions. PAIRS
# measures two modes at the same time instead: both servers on the server
# CPU, each loaded by its own wrk on the client CPU, so other processes'
# load falls on both alike. Compare their CPU per request, not their
# requests per second: the scheduler does not split the CPU evenly between
# the two (it follows when each wakes), so their throughputs swing from
# round to round (measured: 0.46x to 1.49x for the same pair).
#
# Needs wrk and curl (Debian: apt-get install -y wrk curl) and taskset
# (util-linux).
set -euo pipefail
cd "$(dirname "$0")"
rounds=${ROUNDS:-8}
duration=${DURATION:-5s}
conns=${CONNS:-16}
server_cpu=${SERVER_CPU:-0}
client_cpu=${CLIENT_CPU:-1}
base_port=${PORT:-18080}
read -r -a modes <<<"${MODES:-none sealed sealed-revoke sealed-binary gorilla}"
base=${BASE:-}
[ -z "$base" ] || modes+=(sealed-base)

for tool in wrk curl taskset; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (apt-get install -y wrk curl util-linux)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/server" ./server
declare -A port pid
i=1
for mode in "${modes[@]}"; do
	port[$mode]=$((base_port + i))
	i=$((i + 1))
	bin=$tmp/server serve=$mode
	[ "$mode" != sealed-base ] || bin=$base serve=sealed
	GOMAXPROCS=1 taskset -c "$server_cpu" "$bin" -mode "$serve" -addr "127.0.0.1:${port[$mode]}" 2>"$tmp/$mode.log" &
	pids+=($!)
	pid[$mode]=$!
done
for mode in "${modes[@]}"; do # wait for each to listen
	for _ in $(seq 50); do
		curl -fs -o /dev/null "http://127.0.0.1:${port[$mode]}/login" && break
		sleep 0.1
	done
done

# The session cookie each mode's /login sets; "none" gets sealed's.
login() {
	curl -fs -o /dev/null -D - "http://127.0.0.1:$1/login" |
		tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1
}
declare -A cookie
for mode in "${modes[@]}"; do
	[ "$mode" = none ] || cookie[$mode]=$(login "${port[$mode]}")
done
cookie[none]=${cookie[sealed]:-}
for mode in "${modes[@]}"; do
	body=$(curl -fs -H "Cookie: ${cookie[$mode]}" "http://127.0.0.1:${port[$mode]}/")
	case $body in
	"hello ada.lovelace@example.com"*) ;;
	*) echo "run.sh: $mode: unexpected response: $body" >&2; exit 1 ;;
	esac
	echo "$mode: Cookie header ${#cookie[$mode]} bytes"
done

echo "nproc: $(nproc); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); $(go version)"
echo "servers on cpu $server_cpu (GOMAXPROCS=1), wrk -t1 -c$conns -d$duration on cpu $client_cpu, $rounds rounds"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime
hz=$(getconf CLK_TCK)
load() { # mode duration: wrk's report
	taskset -c "$client_cpu" wrk -t1 -c"$conns" -d"$2" -H "Cookie: ${cookie[$1]}" "http://127.0.0.1:${port[$1]}/"
}
summary() { # wrk-report server-ticks -> "requests/s server-CPU-µs/request"
	echo "$1" | awk -v t="$2" -v hz="$hz" '
		/requests in/ {n = $1} /^Requests\/sec:/ {r = $2} /Non-2xx/ {bad = 1}
		END {if (bad || !n) {print "non-2xx responses or no requests" > "/dev/stderr"; exit 1}; printf "%s %.2f\n", r, t / hz / n * 1e6}'
}
bench() { # mode duration -> "requests/s server-CPU-µs/request"
	local before after out
	before=$(ticks "${pid[$1]}")
	out=$(load "$1" "$2")
	after=$(ticks "${pid[$1]}")
	summary "$out" $((after - before))
}
# bench_pair: modes A and B at once, each server with its own wrk: the two
# servers share the server CPU (about half each, as both stay busy) and
# the two wrk the client CPU, so whatever other processes take from either
# CPU, they take from both modes in the same instant.
bench_pair() { # a b duration -> "rpsA µsA rpsB µsB"
	local a0 b0 a1 b1 wa
	a0=$(ticks "${pid[$1]}") b0=$(ticks "${pid[$2]}")
	load "$1" "$3" >"$tmp/pair-a" &
	wa=$!
	load "$2" "$3" >"$tmp/pair-b"
	wait "$wa"
	a1=$(ticks "${pid[$1]}") b1=$(ticks "${pid[$2]}")
	echo "$(summary "$(cat "$tmp/pair-a")" $((a1 - a0))) $(summary "$(cat "$tmp/pair-b")" $((b1 - b0)))"
}
for mode in "${modes[@]}"; do bench "$mode" 2s >/dev/null; done # warm up

# PAIRS="a:b c:d ..." measures each pair at once (bench_pair), round by
# round, and reports a over b, instead of the modes one after another.
if [ -n "${PAIRS:-}" ]; then
	read -r -a pairs <<<"$PAIRS"
	for p in "${pairs[@]}"; do
		for m in "${p%%:*}" "${p#*:}"; do
			[ -n "${pid[$m]:-}" ] || { echo "run.sh: PAIRS: mode $m is not running (MODES, BASE)" >&2; exit 2; }
		done
	done
	echo "pairs at once: both servers on cpu $server_cpu, both wrk on cpu $client_cpu"
	declare -A prps pcpu
	for r in $(seq "$rounds"); do
		for p in "${pairs[@]}"; do
			a=${p%%:*} b=${p#*:}
			read -r ra ua rb ub < <(bench_pair "$a" "$b" "$duration")
			prps[$p]+="$(awk -v x="$ra" -v y="$rb" 'BEGIN {printf "%f", x / y}') "
			pcpu[$p]+="$(awk -v x="$ua" -v y="$ub" 'BEGIN {printf "%f", y / x}') "
			printf 'round %d %-14s %8.0f req/s %6.2f µs CPU/req | %-11s %8.0f req/s %6.2f µs CPU/req\n' "$r" "$a" "$ra" "$ua" "$b" "$rb" "$ub"
		done
	done
fi

declare -A results cpu
[ -n "${PAIRS:-}" ] || for r in $(seq "$rounds"); do
	for mode in "${modes[@]}"; do
		read -r rps us < <(bench "$mode" "$duration")
		results[$mode]+="$rps "
		cpu[$mode]+="$us "
		printf 'round %d %-14s %10.0f req/s %8.2f µs CPU/request\n' "$r" "$mode" "$rps" "$us"
	done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# ci: "[lo, hi]", a distribution-free interval for the median: the order
# statistics k and n+1-k, whose coverage is 1 - 2 P(Binomial(n, 1/2) < k),
# k the largest that keeps it at least 95% ([min, max] for 6 to 8 rounds;
# fewer than 6 rounds cannot reach 95%).
ci() {
	tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {
		n = NR; k = 1; c = 1; cdf = 0
		for (i = 0; i < n; i++) {                # cdf = P(X <= i)
			c = (i == 0) ? 1 : c * (n - i + 1) / i
			cdf += c / 2^n
			if (cdf <= 0.025) k = i + 1; else break
		}
		printf "[%.2f, %.2f]", a[k], a[n + 1 - k]}'
}
if [ -n "${PAIRS:-}" ]; then
	echo
	for p in "${pairs[@]}"; do
		printf '%-14s / %-11s %5.2fx %s by req/s, %5.2fx %s by CPU per request (at once)\n' "${p%%:*}" "${p#*:}" \
			"$(echo "${prps[$p]}" | median)" "$(echo "${prps[$p]}" | ci)" "$(echo "${pcpu[$p]}" | median)" "$(echo "${pcpu[$p]}" | ci)"
	done
	echo "(medians over $rounds rounds, [95% interval of the median]; targets: sealed / none >= 0.85x, sealed / gorilla >= 3x)"
	exit 0
fi
declare -A med medcpu
echo
echo "| mode | req/s (median of $rounds) | server CPU µs/request (median) |"
echo "|---|---:|---:|"
for mode in "${modes[@]}"; do
	med[$mode]=$(echo "${results[$mode]}" | median)
	medcpu[$mode]=$(echo "${cpu[$mode]}" | median)
	printf '| %s | %.0f | %.2f |\n' "$mode" "${med[$mode]}" "${medcpu[$mode]}"
done

# ratios LIST-A LIST-B: A over B in each round.
ratios() {
	paste <(echo "$1" | tr ' ' '\n' | grep .) <(echo "$2" | tr ' ' '\n' | grep .) |
		awk '{printf "%f ", $1 / $2}'
}
report() { # mode vs target
	[ -n "${results[$1]:-}" ] && [ -n "${results[$2]:-}" ] || return 0
	local r c
	r=$(ratios "${results[$1]}" "${results[$2]}")
	c=$(ratios "${cpu[$2]}" "${cpu[$1]}")
	printf '%-14s / %-11s %5.2fx %s by req/s, %5.2fx %s by CPU per request%s\n' "$1" "$2" \
		"$(echo "$r" | median)" "$(echo "$r" | ci)" "$(echo "$c" | median)" "$(echo "$c" | ci)" "$3"
}
echo
report sealed gorilla " (target >= 3x)"
report sealed none " (target >= 0.85x)"
report sealed sealed-base " (this build over BASE)"
report sealed-base gorilla ""
report sealed-base none ""
report sealed-revoke sealed " (revocation on / off; target >= 0.95x)"
report sealed-binary gorilla ""
report sealed-binary none ""
echo "(medians over $rounds rounds of the per-round ratios, [95% interval of the median])"
