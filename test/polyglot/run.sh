#!/usr/bin/env bash
# Polyglot test: one session, three runtimes. A Go service (goapp: the
# sealed.Manager), a FastAPI service under uvicorn (pyapp: sealed_session's
# SessionMiddleware) and a Node server (nodeapp: @sealedcookie/sealed) run
# behind one nginx, routed by path (/go/, /py/, /node/), so that their
# session cookie (Path=/) is one; all three read one JWKS key file and
# reload it when it changes. A client with a cookie jar (client/) logs in
# through Go, reads and changes the session in FastAPI, reads it in Node,
# adds a flash in Node and sees both back in Go; meanwhile the keys rotate
# ('sealed rotate add', 'promote', 'retire') and whichever service sees an
# old-key cookie first re-seals it, up to a move to AES-256-GCM keys.
# Chunked sessions cross the runtimes; a tampered cookie and a retired
# key's cookie are refused by all three with the same error class. See
# client/main.go for every check, and docs/INTEROP.md.
#
# Usage: test/polyglot/run.sh      (from anywhere)
# Needs: go, nginx, node >= 20.19 with interop/node_modules
#        (npm ci --prefix interop), and a python3 that imports cryptography,
#        fastapi and uvicorn (Debian: python3-cryptography python3-fastapi
#        python3-uvicorn). Without one of them it prints why and exits 0
#        (skipped), unless SEALED_POLYGLOT=1, which makes it fail.
# Env:   SEALED_SESSION_PYTHON  the interpreter (default: /usr/bin/python3,
#                               then python3)
#        POLYGLOT_KEEP=1        keep the temporary directory (logs, keys)
# Bounded: about 3 s after the build; the client gives up after 90 s.
# Everything it starts is stopped on exit, and checked to be gone.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NAME=polyglot
log() { printf '%s: %s\n' "$NAME" "$*" >&2; }
. "$ROOT/test/net.sh" # find_nginx, free_port, wait_port, nginx_conf_head

# skip exits 0 with the reason, or 1 under SEALED_POLYGLOT=1.
skip() {
	if [ "${SEALED_POLYGLOT:-}" = 1 ]; then
		log "SEALED_POLYGLOT=1 but $1"
		exit 1
	fi
	echo "$NAME: skipped: $1 (SEALED_POLYGLOT=1 makes this a failure)"
	exit 0
}

command -v go >/dev/null || skip "go not found"
NGINX=$(find_nginx)
[ -n "$NGINX" ] || skip "nginx not found: apt-get install -y nginx"

PYTHON=""
for p in ${SEALED_SESSION_PYTHON:-/usr/bin/python3 python3}; do
	if command -v "$p" >/dev/null && "$p" -c 'import cryptography, fastapi, uvicorn' 2>/dev/null; then
		PYTHON=$(command -v "$p")
		break
	fi
done
[ -n "$PYTHON" ] || skip "no python3 imports cryptography, fastapi and uvicorn: apt-get install -y python3-cryptography python3-fastapi python3-uvicorn"

NODE=$(command -v node || true)
[ -n "$NODE" ] || skip "node not found (Node >= 20.19)"
"$NODE" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
	skip "node $("$NODE" --version) is older than 20.19"
[ -f "$ROOT/interop/js/dist/index.js" ] && [ -d "$ROOT/interop/node_modules/@noble/ciphers" ] ||
	skip "interop/js is not built: npm ci --prefix interop"

TMP=$(mktemp -d "/tmp/sealed-$NAME.XXXXXX")
chmod 755 "$TMP"
PIDS=()
PORTS=()
cleanup() {
	local code=$? pid left=()
	# nginx first (the master stops its worker), then the services.
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && { log "pid $pid ignored SIGTERM: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
		wait "$pid" 2>/dev/null || true
	done
	# Nothing may outlive the test: no process whose command line names
	# $TMP, none of its ports open.
	for pid in $(pgrep -f "$TMP" 2>/dev/null || true); do [ "$pid" != $$ ] && left+=("$pid"); done
	for port in "${PORTS[@]}"; do
		if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
			log "port $port still open after cleanup"
			[ "$code" = 0 ] && code=1
		fi
	done
	if [ ${#left[@]} -gt 0 ]; then
		log "processes left behind: $(ps -o pid=,args= -p "${left[*]}" | tr '\n' ';')"
		kill -KILL "${left[@]}" 2>/dev/null || true
		[ "$code" = 0 ] && code=1
	fi
	if [ "$code" != 0 ]; then
		for f in "$TMP"/*.log; do [ -s "$f" ] && { echo "--- $(basename "$f") (last lines)"; tail -n 15 "$f"; }; done >&2
	fi
	if [ "${POLYGLOT_KEEP:-}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
	exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$SECONDS
log "building the sealed CLI, goapp and the client"
(cd "$ROOT" && export GOWORK="$ROOT/go.work" &&
	go build -o "$TMP/sealed" ./cmd/sealed &&
	go build -o "$TMP/goapp" ./test/polyglot/goapp &&
	go build -o "$TMP/client" ./test/polyglot/client)
build_time=$((SECONDS - t0))
t1=$(date +%s%N)

KEYS=$TMP/keys.json
"$TMP/sealed" keygen --id k1 --out "$KEYS" >/dev/null

GO_PORT=$(free_port)
PORTS+=("$GO_PORT")
"$TMP/goapp" -addr "127.0.0.1:$GO_PORT" -jwks "$KEYS" -reload 200ms >"$TMP/goapp.log" 2>&1 &
PIDS+=($!)
GO_PID=$!

PY_PORT=$(free_port)
PORTS+=("$PY_PORT")
SEALED_JWKS=$KEYS SEALED_RELOAD=0.2 PYTHONPATH="$ROOT/interop/python/src" PYTHONDONTWRITEBYTECODE=1 \
	"$PYTHON" -m uvicorn app:app --app-dir "$ROOT/test/polyglot/pyapp" --host 127.0.0.1 --port "$PY_PORT" \
	--log-level warning --no-access-log >"$TMP/pyapp.log" 2>&1 &
PIDS+=($!)
PY_PID=$!

# The Node service imports the package by its name, as a user's app does
# after `npm install ./interop/js`: a node_modules next to it links to it.
mkdir -p "$TMP/node/node_modules/@sealedcookie"
ln -s "$ROOT/interop/js" "$TMP/node/node_modules/@sealedcookie/sealed"
cp "$ROOT/test/polyglot/nodeapp/server.mjs" "$TMP/node/server.mjs"
NODE_PORT=$(free_port)
PORTS+=("$NODE_PORT")
SEALED_JWKS=$KEYS SEALED_RELOAD_MS=200 PORT=$NODE_PORT "$NODE" "$TMP/node/server.mjs" >"$TMP/nodeapp.log" 2>&1 &
PIDS+=($!)
NODE_PID=$!

wait_port "$GO_PORT" goapp "$GO_PID"
wait_port "$PY_PORT" uvicorn "$PY_PID"
wait_port "$NODE_PORT" nodeapp "$NODE_PID"

# nginx, routing by path. A chunked session needs room: its Cookie header
# is up to 4 chunks of about 4 KB (the default chunk budget), and so are
# its Set-Cookie lines; nginx's defaults (8 KB per request header line, 4 KB
# for an upstream's response headers) hold one chunk, or two.
LB=$(free_port)
PORTS+=("$LB")
mkdir -p "$TMP/nginx"
{
	nginx_conf_head "$TMP" 256
	cat <<CONF
	large_client_header_buffers 4 32k;
	proxy_buffer_size 32k;
	proxy_buffers 8 32k;
	proxy_busy_buffers_size 64k;
	proxy_http_version 1.1;
	proxy_set_header Connection "";
	proxy_next_upstream off;
	server {
		listen 127.0.0.1:$LB;
		location /go/ { proxy_pass http://127.0.0.1:$GO_PORT/; }
		location /py/ { proxy_pass http://127.0.0.1:$PY_PORT/; }
		location /node/ { proxy_pass http://127.0.0.1:$NODE_PORT/; }
	}
}
CONF
} >"$TMP/nginx.conf"
# nginx goes first in PIDS, so that cleanup stops it before the services.
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx.conf" -e "$TMP/nginx.log" 2>>"$TMP/nginx.log" &
PIDS=($! "${PIDS[@]}")
wait_port "$LB" nginx "${PIDS[0]}"
log "go on $GO_PORT, FastAPI (uvicorn, $("$PYTHON" --version 2>&1)) on $PY_PORT, node $("$NODE" --version) on $NODE_PORT, nginx on $LB; built in ${build_time}s"

echo "== sealed polyglot test: Go, FastAPI and Node behind nginx, one JWKS key file =="
# In the background, so that a signal to this script runs cleanup at once.
timeout 90 "$TMP/client" -url "http://127.0.0.1:$LB" -keys "$KEYS" -cli "$TMP/sealed" &
PIDS+=($!)
wait $!
ms=$((($(date +%s%N) - t1) / 1000000))
printf 'time: %d.%03ds from starting the services to the last check; the build took %ds\n' $((ms / 1000)) $((ms % 1000)) "$build_time"
