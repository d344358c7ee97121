# Network helpers shared by the test harnesses that start servers behind
# nginx (test/fleet, test/polyglot): sourced, not run, with no side effects.
# The caller defines log MESSAGE.

# find_nginx prints the path of nginx, or nothing when it is not installed.
find_nginx() {
	command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}

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

# wait_port PORT [WHAT PID] waits up to 15 s for a listener on PORT, and
# fails early when process PID (named WHAT) exits first.
wait_port() {
	local what=${2:-port $1}
	for _ in $(seq 300); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
			log "$what exited before listening on port $1"; return 1
		fi
		sleep 0.05
	done
	log "$what: nothing listens on port $1 after 15 s"; return 1
}

# nginx_conf_head DIR WORKER_CONNECTIONS prints the start of an nginx.conf
# that keeps everything of the server in DIR (pid, logs, temporary files)
# and runs in the foreground, up to the open "http {" block.
nginx_conf_head() {
	cat <<CONF
worker_processes 1;
daemon off;
pid $1/nginx/nginx.pid;
error_log $1/nginx.log warn;
events { worker_connections $2; }
http {
	access_log off;
	client_body_temp_path $1/nginx/body;
	proxy_temp_path $1/nginx/proxy;
	fastcgi_temp_path $1/nginx/fastcgi;
	uwsgi_temp_path $1/nginx/uwsgi;
	scgi_temp_path $1/nginx/scgi;
CONF
}
