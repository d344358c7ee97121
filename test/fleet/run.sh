#!/usr/bin/env bash
# Fleet test: three instances of the demo server behind nginx (round robin),
# all reading one JWKS file through hot reload, under a few hundred clients,
# while the CLI performs a full key rotation (add, promote, retire). Passes
# when no request loses its session, there is no 5xx, every counter matches
# its client's increments, and the counters show stale upgrades.
#
# Usage: test/fleet/run.sh         (from anywhere; needs go and nginx)
# Env:   FLEET_SERVER=demo|standin (default demo: "sealed demo -jwks ...")
#        FLEET_CLIENTS (300), FLEET_LIFETIME (20s), FLEET_SESSION (8s),
#        FLEET_RELOAD_WAIT (7s: longer than two key-file polls)
# Bounded: about a minute; everything it starts is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SERVER=${FLEET_SERVER:-demo}
CLIENTS=${FLEET_CLIENTS:-300}
LIFETIME=${FLEET_LIFETIME:-20}     # seconds: the servers' session lifetime
SESSION=${FLEET_SESSION:-8}        # seconds: each client session (< LIFETIME)
RELOAD_WAIT=${FLEET_RELOAD_WAIT:-7} # seconds for every instance to reload
WARMUP=5

NAME=fleet
. "$ROOT/test/fleet/lib.sh"

build
case "$SERVER" in
demo)
	if ! "$TMP/sealed" demo -help 2>&1 | grep -q -- '-jwks'; then
		log "'sealed demo' has no -jwks flag yet; FLEET_SERVER=standin runs the harness with test/fleet/standin"
		exit 1
	fi
	FIELD=counter
	server() { exec "$TMP/sealed" demo -addr "127.0.0.1:$1" -jwks "$TMP/keys.json" -lifetime "${LIFETIME}s"; } ;;
standin)
	(cd "$ROOT" && go build -o "$TMP/standin" ./test/fleet/standin)
	FIELD=count
	server() { exec "$TMP/standin" -addr "127.0.0.1:$1" -jwks "$TMP/keys.json" -lifetime "${LIFETIME}s" -reload 1s; } ;;
*) log "FLEET_SERVER must be demo or standin"; exit 2 ;;
esac

cli() { "$TMP/sealed" "$@" >>"$TMP/rotation.log"; }
cli keygen --id k1 --out "$TMP/keys.json"

PORTS=()
STATS=()
for i in 1 2 3; do
	port=$(free_port)
	server "$port" >"$TMP/server$i.log" 2>&1 &
	PIDS+=($!)
	PORTS+=("$port")
	STATS+=("http://127.0.0.1:$port")
done
for port in "${PORTS[@]}"; do wait_port "$port"; done

start_nginx "${PORTS[@]}"
log "3 instances on ports ${PORTS[*]}, nginx on $LB, $CLIENTS clients, lifetime ${LIFETIME}s"

RETIRE_AT=$((WARMUP + 2 * RELOAD_WAIT + LIFETIME))
DURATION=$((RETIRE_AT + RELOAD_WAIT + SESSION))
timeout $((DURATION + 60)) "$TMP/loadclient" -url "http://127.0.0.1:$LB" -clients "$CLIENTS" \
	-duration "${DURATION}s" -session "${SESSION}s" -old-key k1 -field "$FIELD" \
	-stats "$(IFS=,; echo "${STATS[*]}")" >"$TMP/load.out" 2>&1 &
LOAD=$!
PIDS+=($LOAD)

t0=$SECONDS
at() { local d=$(($1 - (SECONDS - t0))); [ "$d" -gt 0 ] && sleep "$d"; return 0; }
at "$WARMUP"
log "t=$((SECONDS - t0))s step 1: rotate add k2"
cli rotate add "$TMP/keys.json" --id k2
at $((WARMUP + RELOAD_WAIT))
log "t=$((SECONDS - t0))s step 2: rotate promote k2"
cli rotate promote "$TMP/keys.json" k2
at "$RETIRE_AT"
log "t=$((SECONDS - t0))s step 3: rotate retire k1 (promote + reload wait + lifetime)"
cli rotate retire "$TMP/keys.json" k1

code=0
wait "$LOAD" || code=$?
echo "== sealed fleet test: $SERVER x3 behind nginx, rotation k1 -> k2 =="
cat "$TMP/load.out"
echo "keys:     $("$TMP/sealed" rotate list "$TMP/keys.json" | tr '\t\n' ' ;')"
exit "$code"
