# prometheus.sh: a real Prometheus server for oomguard's metrics tests
# (bash): Debian's prometheus package, started on a loopback port with a
# configuration and a storage directory of its own under $tmp, stopped at
# the end. No curl: HTTP goes through bash's /dev/tcp, queries through
# promtool.
#
# Source it; sourcing defines functions and nothing else.
#
#   prom_start PORT TARGET [INTERVAL]
#                       scrape http://TARGET/metrics every INTERVAL (1s)
#                       as job "oomguard"; serve on 127.0.0.1:PORT; wait
#                       until ready (30 s at most). Sets PROM_PID, PROM_URL.
#   prom_stop           SIGTERM prometheus, wait for it (10 s, then SIGKILL)
#   prom_query EXPR     print the value of the instant query EXPR, one
#                       line per series ("LABELS VALUE"), sorted
#   prom_targets_up     print 1 when the last scrape of the target worked
#   http_get HOSTPORT PATH
#                       print the body of GET PATH from HOSTPORT (a plain
#                       HTTP/1.0 request); return 1 without a 200
#
# Needs $tmp (cg_test_setup makes it). The caller's EXIT trap should call
# prom_stop, so that no prometheus outlives a failed test.

PROM_PID=
PROM_URL=

http_get() {
	local host=${1%:*} port=${1##*:} path=$2 line code
	exec {fd}<>"/dev/tcp/$host/$port" || return 1
	printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$1" >&"$fd"
	read -r -t 10 line <&"$fd" || {
		exec {fd}>&-
		return 1
	}
	code=$(printf '%s\n' "$line" | awk '{print $2}')
	while read -r -t 10 line <&"$fd" && [[ $line != $'\r' && -n $line ]]; do :; done
	cat <&"$fd"
	exec {fd}>&-
	[[ $code == 200 ]]
}

prom_start() {
	local port=$1 target=$2 interval=${3:-1s} dir=$tmp/prom
	mkdir -p "$dir/data"
	cat >"$dir/prometheus.yml" <<CONF
global:
  scrape_interval: $interval
  scrape_timeout: $interval
scrape_configs:
  - job_name: oomguard
    static_configs:
      - targets: ['$target']
CONF
	prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
		--web.listen-address="127.0.0.1:$port" --log.level=warn >"$dir/prometheus.log" 2>&1 &
	PROM_PID=$!
	PROM_URL=http://127.0.0.1:$port
	for _ in $(seq 300); do
		http_get "127.0.0.1:$port" /-/ready >/dev/null 2>&1 && return 0
		kill -0 "$PROM_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "prometheus did not start:" >&2
	tail -5 "$dir/prometheus.log" >&2
	prom_stop
	return 1
}

prom_stop() {
	[[ -n $PROM_PID ]] || return 0
	kill -TERM "$PROM_PID" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$PROM_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$PROM_PID" 2>/dev/null
	wait "$PROM_PID" 2>/dev/null
	PROM_PID=
}

prom_query() {
	promtool query instant "$PROM_URL" "$1" 2>&1 |
		sed -n 's/^\(.*\) => \([^ ]*\) @\[.*\]$/\1 \2/p' | sort
}

prom_targets_up() {
	prom_query 'up{job="oomguard"}' | awk '{print $NF}'
}
