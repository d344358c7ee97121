#!/usr/bin/env bash
# Fleet test of revocation: three "sealed demo -jwks ... -redis ..."
# instances behind nginx (round robin) with one redis-server, under a few
# hundred clients (each a device of a user: some users have two or three).
# Under load it signs 100 users out everywhere, ends 100 single sessions
# (logout with a kept copy of the cookie, or revoked by ID from another
# device) and signs 50 users out of their other devices; it measures, per
# instance, the time from each revoking call's response to the first 401
# for that cookie (polling each instance directly), and counts any 200 to
# a request sent more than a second after the call. Then it kills Redis for
# 10 s while the load goes on, signs users out meanwhile (202: queued),
# starts Redis again empty (no persistence), and checks that the outage
# broke no session, that every instance's staleness stayed under
# -redis-max-stale, and that every revocation holds on every instance
# afterwards. See test/fleet/loadclient/revoke.go for the steps and what
# fails the test. Passes with no lost session, no 5xx, no revoked cookie
# accepted after the bound, and every instance reporting (in its log) that
# Redis lost its data when it came back empty.
#
# Usage: test/fleet/revoke.sh     (from anywhere; needs go, nginx, redis-server)
# Env:   FLEET_BOUND (1s): the propagation bound checked
#        FLEET_MAX_STALE (30s): the instances' -redis-max-stale
#        FLEET_OUTAGE (10s): how long Redis is down
#        FLEET_THINK (100ms): each device's pause between requests
# Bounded: about 35 s after the build (the load client gives up after five
# minutes); everything it starts is stopped on exit, Redis included.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BOUND=${FLEET_BOUND:-1s}
MAX_STALE=${FLEET_MAX_STALE:-30s}
OUTAGE=${FLEET_OUTAGE:-10s}
THINK=${FLEET_THINK:-100ms}

NAME=fleet-revoke
. "$ROOT/test/fleet/lib.sh"

REDIS_SERVER=$(command -v redis-server || true)
if [ -z "$REDIS_SERVER" ]; then
	log "redis-server not found: apt-get install -y redis-server"; exit 1
fi

build

# Redis: no persistence, so a restart comes back empty. redis-ctl starts it
# (daemonized, returning once it answers PING) and kills it (SIGKILL); the
# load client runs it for the outage, and the exit trap for cleanup.
REDIS_PORT=$(free_port)
mkdir -p "$TMP/redis"
cat >"$TMP/redis-ctl" <<CTL
#!/usr/bin/env bash
set -u
case \$1 in
start)
	"$REDIS_SERVER" --port $REDIS_PORT --bind 127.0.0.1 --save "" --appendonly no \\
		--dir "$TMP/redis" --daemonize yes --pidfile "$TMP/redis.pid" --logfile "$TMP/redis.log"
	for _ in \$(seq 200); do
		if (exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT && printf 'PING\r\n' >&3 &&
			read -r -t 1 line <&3 && [[ \$line == +PONG* ]]) 2>/dev/null; then exit 0; fi
		sleep 0.05
	done
	echo "redis-server did not answer on port $REDIS_PORT" >&2; exit 1 ;;
stop)
	[ -s "$TMP/redis.pid" ] || exit 0
	pid=\$(cat "$TMP/redis.pid")
	kill -9 "\$pid" 2>/dev/null || true
	rm -f "$TMP/redis.pid"
	# Down once its port refuses connections (the process may linger as a
	# zombie until init reaps it: it is not redis-server's parent).
	for _ in \$(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT) 2>/dev/null || exit 0; sleep 0.02; done
	echo "port $REDIS_PORT still open after killing redis-server" >&2; exit 1 ;;
esac
CTL
chmod +x "$TMP/redis-ctl"
ON_EXIT+=("'$TMP/redis-ctl' stop")
"$TMP/redis-ctl" start

"$TMP/sealed" keygen --id k1 --out "$TMP/keys.json" >/dev/null
PORTS=()
INSTANCES=()
for i in 1 2 3; do
	port=$(free_port)
	"$TMP/sealed" demo -addr "127.0.0.1:$port" -jwks "$TMP/keys.json" \
		-redis "127.0.0.1:$REDIS_PORT" -redis-max-stale "$MAX_STALE" >"$TMP/server$i.log" 2>&1 &
	PIDS+=($!)
	PORTS+=("$port")
	INSTANCES+=("http://127.0.0.1:$port")
done
for port in "${PORTS[@]}"; do wait_port "$port"; done
start_nginx "${PORTS[@]}"
log "3 instances on ports ${PORTS[*]} (-redis-max-stale $MAX_STALE), nginx on $LB, redis-server on $REDIS_PORT"

code=0
timeout 300 "$TMP/loadclient" -scenario revoke -url "http://127.0.0.1:$LB" \
	-instances "$(IFS=,; echo "${INSTANCES[*]}")" -think "$THINK" -bound "$BOUND" \
	-outage "$OUTAGE" -max-stale "$MAX_STALE" \
	-redis-stop "'$TMP/redis-ctl' stop" -redis-start "'$TMP/redis-ctl' start" >"$TMP/load.out" || code=$?
echo "== sealed fleet test: revocation, demo x3 behind nginx, one redis-server =="
cat "$TMP/load.out"
# Redis comes back empty, so every instance must notice that it lost its
# data (redisstore reports it once per change of the generation token).
for i in 1 2 3; do
	lost=$(grep -c 'Redis lost its data' "$TMP/server$i.log" || true)
	echo "server #$i: ${lost} 'Redis lost its data' report(s) after the restart (mirror kept); $(grep -c 'revocations:' "$TMP/server$i.log" || true) store log lines"
	if [ "$lost" -eq 0 ]; then
		echo "FAIL: server #$i did not report that Redis lost its data after the restart"
		code=1
	fi
done
exit "$code"
