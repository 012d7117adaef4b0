#!/bin/bash
# The survival matrix of a fast collector under oomguard's default
# settings, on real v1 cgroups of this host (called by bench.sh; the same
# matrix on cgroup v2 runs in the VM: tests/vm/check.sh with
# VM_SURVIVAL=1, whose t-churn.sh prints the same table). No assertions:
# figures for docs/benchmarks.md.
#
# churn (tests/workload/churn.c) keeps LIVE% of a 128 MiB limit live and
# replaces the rest at RATE MB/s, freeing its garbage at once on SIGUSR1.
# For each rate in SURVIVAL_RATES (50 100 200 400), live share in
# SURVIVAL_LIVES (40 60) and path (event: the OOM killer off, thresholds
# registered; polling: the cgroupfs read-only in a private mount namespace,
# the OOM killer on) it runs SURVIVAL_SECS seconds (10) under oomguard as
# its entrypoint, then SIGTERM. Printed per run: SIGKILLs sent by
# oomguard, kernel OOM kills, the peak usage of the limit, gc requests per
# second (served by churn), info log lines per second (all of them, at the
# default log level) and oomguard's CPU time (share of one core).
#
# Usage: survival.sh   (OOMGUARD and WORKLOAD_DIR set, as by make bench)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cgroup.sh"
: "${OOMGUARD:?}" "${WORKLOAD_DIR:?}"
secs=${SURVIVAL_SECS:-10}
limit=$((128 << 20))
mnt=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5}' /proc/self/mountinfo)
tmp=$(mktemp -d)
trap 'cg_cleanup_all; rm -rf "$tmp"' EXIT

# once PATH RATE LIVE: one run; prints its row.
once() {
	local path=$1 rate=$2 live=$3 dir pid t0 t1 rc
	local cmd=(env -i PATH="$PATH" "$OOMGUARD" -c /dev/null -- "$WORKLOAD_DIR/churn" --limit 128M
		--rate "$rate" --live "$live" --exit-code 7)
	if [[ $path == event ]]; then
		dir=$(cg_create "og-surv-$path-$rate-$live-$$" $limit oom_disable) || exit 1
		cg_spawn "$dir" "${cmd[@]}" >/dev/null 2>"$tmp/log"
	else
		dir=$(cg_create "og-surv-$path-$rate-$live-$$" $limit) || exit 1
		cg_spawn "$dir" unshare -m sh -c 'mount -o bind,ro "$0" "$0" && exec "$@"' "$mnt" \
			"${cmd[@]}" >/dev/null 2>"$tmp/log"
	fi
	pid=$CG_PID
	sleep 0.5
	read -r t0 _ <"/proc/$pid/schedstat"
	sleep "$secs"
	read -r t1 _ <"/proc/$pid/schedstat" 2>/dev/null || t1=$t0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	awk -v path="$path" -v rate="$rate" -v live="$live" -v secs="$secs" -v rc="$rc" \
		-v oom="$(awk '$1 == "oom_kill" { print $2 }' "$dir/memory.oom_control")" \
		-v peak="$(<"$dir/memory.max_usage_in_bytes")" -v limit="$limit" -v cpu=$((t1 - t0)) '
		/ kill: / { kills++ }
		/ (info|warn|error) / { info++ }
		/^churn: exit/ { for (i = 1; i <= NF; i++) if ($i == "served") served = $(i + 1) }
		END {
			printf "%-8s %5d %5d%%  %7d %8d %7.1f%% %9.1f %9.1f %8.2f%%  %s\n", path, rate, live,
				kills, oom, 100 * peak / limit, served / secs, info / secs,
				100 * cpu / (secs * 1e9), rc == 7 ? "app exit 7" : "exit " rc
		}' "$tmp/log"
	cg_destroy "$dir"
}

echo "survival of churn in 128 MiB, default settings, ${secs}s per run (v1, $(uname -r))"
printf '%-8s %5s %6s  %7s %8s %8s %9s %9s %9s  %s\n' path MB/s live SIGKILL oom_kill peak \
	"gc/s" "info/s" "cpu" end
for rate in ${SURVIVAL_RATES:-50 100 200 400}; do
	for live in ${SURVIVAL_LIVES:-40 60}; do
		for path in event polling; do
			once "$path" "$rate" "$live"
		done
	done
done
