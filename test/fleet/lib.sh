# Shared by the fleet scenarios (run.sh: key rotation; revoke.sh:
# revocation through Redis): sourced, not run. It finds nginx, makes the
# temporary directory, stops everything the scenario started on exit, and
# builds the demo and the load client.
#
# A scenario sets ROOT and NAME, sources this file, then calls build,
# starts its processes in the background and adds their PIDs to PIDS, and
# calls start_nginx PORT... for the load balancer. Commands in ON_EXIT (an
# array) run at exit before the processes in PIDS are killed.

log() { printf '%s: %s\n' "$NAME" "$*" >&2; }

. "$ROOT/test/net.sh" # find_nginx, free_port, wait_port, nginx_conf_head

NGINX=$(find_nginx)
if [ -z "$NGINX" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		log "installing nginx (apt-get install -y nginx)"
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
		NGINX=/usr/sbin/nginx
	else
		log "nginx not found: apt-get install -y nginx"; exit 1
	fi
fi

TMP=$(mktemp -d "/tmp/sealed-$NAME.XXXXXX")
chmod 755 "$TMP"
PIDS=()
ON_EXIT=()
cleanup() {
	local code=$?
	for c in "${ON_EXIT[@]}"; do eval "$c" || true; done
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

# build builds the CLI (cmd/sealed, a module of its own that the
# workspace builds from this checkout) and the load client into $TMP.
build() {
	log "building"
	(cd "$ROOT" && export GOWORK="$ROOT/go.work" &&
		go build -o "$TMP/sealed" ./cmd/sealed && go build -o "$TMP/loadclient" ./test/fleet/loadclient)
}

# start_nginx PORT... starts nginx as a round-robin load balancer in front
# of the given ports and sets LB to its port.
start_nginx() {
	LB=$(free_port)
	mkdir -p "$TMP/nginx"
	{
		nginx_conf_head "$TMP" 4096
		cat <<CONF
	upstream fleet {
CONF
		for port in "$@"; do echo "		server 127.0.0.1:$port;"; done
		cat <<CONF
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
	} >"$TMP/nginx.conf"
	"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx.conf" -e "$TMP/nginx.log" 2>>"$TMP/nginx.log" &
	PIDS+=($!)
	wait_port "$LB"
}
