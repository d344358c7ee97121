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

log() { printf 'fleet: %s\n' "$*" >&2; }

NGINX=$(command -v nginx || true)
[ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
if [ -z "$NGINX" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		log "installing nginx (apt-get install -y nginx)"
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
		NGINX=/usr/sbin/nginx
	else
		log "nginx not found: apt-get install -y nginx"; exit 1
	fi
fi

TMP=$(mktemp -d /tmp/sealed-fleet.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() {
	local code=$?
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ "$code" != 0 ] && [ -d "$TMP" ]; then
		for f in "$TMP"/*.log; do [ -s "$f" ] && { echo "--- $(basename "$f") (last lines)"; tail -n 5 "$f"; }; done >&2
	fi
	rm -rf "$TMP"
	exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return; fi
	done
	log "no free port"; exit 1
}

wait_port() {
	for _ in $(seq 100); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.1
	done
	log "nothing listens on port $1"; return 1
}

log "building"
(cd "$ROOT" && go build -o "$TMP/sealed" ./cmd/sealed && go build -o "$TMP/loadclient" ./test/fleet/loadclient)
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

LB=$(free_port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $TMP/nginx/body;
	proxy_temp_path $TMP/nginx/proxy;
	fastcgi_temp_path $TMP/nginx/fastcgi;
	uwsgi_temp_path $TMP/nginx/uwsgi;
	scgi_temp_path $TMP/nginx/scgi;
	upstream fleet {
		server 127.0.0.1:${PORTS[0]};
		server 127.0.0.1:${PORTS[1]};
		server 127.0.0.1:${PORTS[2]};
		keepalive 128;
	}
	server {
		listen 127.0.0.1:$LB;
		location / {
			proxy_pass http://fleet;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_next_upstream off;
		}
	}
}
CONF
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx.conf" -e "$TMP/nginx.log" 2>>"$TMP/nginx.log" &
PIDS+=($!)
wait_port "$LB"
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
