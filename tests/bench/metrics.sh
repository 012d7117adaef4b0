#!/bin/bash
# tests/bench/metrics.sh (make bench, section metrics): oomguard's reaction
# latency with its metrics endpoint, side by side in one run:
#   off      no endpoint;
#   scraped  the endpoint, scraped 10 times a second;
#   hostile  the endpoint under 200 slowloris connections, 20 sending
#            64 KiB headers, 1,000 idle ones and 4 scraping in a loop.
# stepper crosses a gc level of 256 MiB at RATE MiB/s (BENCH_METRICS_RATE,
# 150) BENCH_CROSSINGS times (50) and times its SIGUSR1 handler from the
# crossing, as in bench.sh's latency section. Figures, not assertions.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cgroup.sh"
source "$here/../lib/testlib.sh"
source "$here/../lib/prometheus.sh"
source "$here/lib.sh"
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; cg_cleanup_all; rm -rf "$tmp"' EXIT
: "${OOMGUARD:?}" "${WORKLOAD_DIR:?}"
crossings=${BENCH_CROSSINGS:-50}
rate=${BENCH_METRICS_RATE:-150}
MiB=$((1 << 20))
port=$((20000 + $$ % 20000))
export OOMGUARD_WATCH_METRIC=usage OOMGUARD_GC_COOLDOWN=10ms OOMGUARD_GC_REARM_BELOW=232M \
	OOMGUARD_GC_REQUIRE_HANDLER=no OOMGUARD_LOG_LEVEL=warn

scraper() {
	while :; do
		http_get "127.0.0.1:$port" /metrics >/dev/null 2>&1
		sleep 0.1
	done
}

run() { # NAME
	local name=$1 dir out metrics=() extra=()
	dir=$(cg_create "og-bench-metrics-$name-$$" $((512 * MiB))) || exit 1
	out=$tmp/$name
	[[ $name != off ]] && metrics=(--metrics "127.0.0.1:$port")
	cg_spawn "$dir" "$OOMGUARD" --gc-at 256M --restart-at none --kill-at none "${metrics[@]}" -- \
		"$WORKLOAD_DIR/stepper" "$dir/memory.usage_in_bytes" $((256 * MiB)) "$rate" "$crossings" \
		$((208 * MiB)) >"$out"
	local app=$CG_PID
	sleep 0.5
	case $name in
	scraped)
		scraper &
		extra+=($!)
		;;
	hostile)
		for spec in "slowloris 200" "headers 20" "flood 1000" "scrape 4"; do
			# shellcheck disable=SC2086
			"$WORKLOAD_DIR/hostile" $spec "127.0.0.1:$port" 3600 >>"$tmp/hostile" 2>&1 &
			extra+=($!)
		done
		;;
	esac
	pids+=("${extra[@]}")
	wait "$app"
	for p in "${extra[@]}"; do kill "$p" 2>/dev/null; done
	wait "${extra[@]}" 2>/dev/null
	printf '%-8s %6s MiB/s  %s\n' "$name" "$rate" "$(stats "$out")"
	cg_destroy "$dir"
}

echo "reaction latency with the metrics endpoint, usage crossing 256 MiB -> SIGUSR1 handler (usec)"
printf '%-8s %12s  %8s %8s %8s %6s %6s\n' endpoint rate p50 p99 max n timeout
run off
run scraped
run hostile
