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

# free_port prints a port nothing listens on, below the ephemeral range
# (/proc/sys/net/ipv4/ip_local_port_range), so that no outgoing connection
# of the load holds it either: a listener cannot bind a port that a
# connection uses as its local port.
free_port() {
	local p eph hi=39999
	eph=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 40000)
	[ "$eph" -gt 21000 ] 2>/dev/null && hi=$((eph - 1))
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % (hi - 20000 + 1)))
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
		cat <<CONF
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
