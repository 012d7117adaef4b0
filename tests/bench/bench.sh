#!/bin/bash
# make bench: oomguard's reaction latency and its own cost, measured on
# real v1 cgroups of this host and printed as figures (no assertions).
#
# Latency: stepper grows its memory at a set rate from a base 48 MiB below
# a gc level of 256 MiB, notes when the kernel's usage file first reads at
# or above the level and when its SIGUSR1 handler runs; the difference is
# the reaction latency. It frees back below the rearm level and repeats.
# The event path is oomguard as usual (v1 threshold eventfds); the polling
# path is the same with the cgroupfs mounted read-only in a private mount
# namespace, as inside a container, so that no notification can be
# registered. BENCH_CROSSINGS (default 50) crossings per rate and path.
#
# Cost: oomguard watching a cgroup for BENCH_SECS (default 60) seconds
# while its usage is far below every level (idle) and 1 MiB below the gc
# level (near), with CPU time from /proc/PID/schedstat and memory from
# /proc/PID/status.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cgroup.sh"
trap cg_cleanup_all EXIT
: "${OOMGUARD:?}" "${WORKLOAD_DIR:?}"
crossings=${BENCH_CROSSINGS:-50}
secs=${BENCH_SECS:-60}
MiB=$((1 << 20))
level=$((256 * MiB))

self=$(cg_self_memdir) || exit 1
if [[ $(cg_version "$self") != 1 ]]; then
	echo "make bench needs a cgroup v1 memory controller" >&2
	exit 1
fi
mnt=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5}' /proc/self/mountinfo)

export OOMGUARD_WATCH_METRIC=usage OOMGUARD_GC_COOLDOWN=10ms OOMGUARD_GC_REARM_BELOW=232M \
	OOMGUARD_GC_REQUIRE_HANDLER=no OOMGUARD_LOG_LEVEL=warn

# stats FILE: p50 p99 max (usec) of the numbers in FILE, and the timeouts.
stats() {
	local n to
	to=$(grep -c timeout "$1")
	n=$(grep -c '^[0-9]' "$1")
	grep '^[0-9]' "$1" | sort -n | awk -v n="$n" -v to="$to" '
		{ v[NR] = $1 }
		END {
			if (n == 0) { printf "%8s %8s %8s %6d %6d\n", "-", "-", "-", 0, to; exit }
			p50 = v[int((n - 1) * 0.50) + 1]; p99 = v[int((n - 1) * 0.99) + 1]
			printf "%8d %8d %8d %6d %6d\n", p50, p99, v[n], n, to
		}'
}

latency() { # PATH RATE
	local path=$1 rate=$2 dir out
	dir=$(cg_create "og-bench-$path-$rate-$$" $((512 * MiB))) || exit 1
	out=$(mktemp)
	local cmd=("$OOMGUARD" --gc-at 256M --restart-at none --kill-at none --
		"$WORKLOAD_DIR/stepper" "$dir/memory.usage_in_bytes" "$level" "$rate" "$crossings" $((208 * MiB)))
	if [[ $path == polling ]]; then
		cg_exec "$dir" unshare -m sh -c 'mount -o bind,ro "$0" "$0" && exec "$@"' "$mnt" "${cmd[@]}" >"$out"
	else
		cg_exec "$dir" "${cmd[@]}" >"$out"
	fi
	printf '%-8s %6s MiB/s  %s\n' "$path" "$rate" "$(stats "$out")"
	rm -f "$out"
	cg_destroy "$dir"
}

cost() { # NAME HOLD_MIB
	local name=$1 hold=$2 dir ogpid t0 t1 rss hwm
	dir=$(cg_create "og-bench-cost-$name-$$" $((512 * MiB))) || exit 1
	cg_spawn "$dir" "$WORKLOAD_DIR/hold" "$hold" >/dev/null
	sleep 1
	"$OOMGUARD" --cgroup "$dir" --gc-at 256M --restart-at none --kill-at none &
	ogpid=$!
	sleep 1
	read -r t0 _ </proc/$ogpid/schedstat
	sleep "$secs"
	read -r t1 _ </proc/$ogpid/schedstat
	rss=$(awk '/^VmRSS/ {print $2}' /proc/$ogpid/status)
	hwm=$(awk '/^VmHWM/ {print $2}' /proc/$ogpid/status)
	kill "$ogpid"
	wait "$ogpid" 2>/dev/null
	awk -v n="$name" -v t=$((t1 - t0)) -v s="$secs" -v u="$(cat "$dir/memory.usage_in_bytes")" -v r="$rss" -v h="$hwm" \
		'BEGIN { printf "%-6s usage %5.1f MiB  cpu %8.3f ms in %ds = %.4f%% of a core  rss %d KiB (peak %d KiB)\n",
			n, u / 1048576, t / 1e6, s, t / 1e7 / s, r, h }'
	cg_destroy "$dir"
}

echo "oomguard benchmark, $(date -u +%Y-%m-%dT%H:%MZ), kernel $(uname -r), $(nproc) cores"
echo "gc level 256 MiB (limit 512 MiB), poll_min 2ms, max_growth 1GiB, $crossings crossings each"
echo
echo "reaction latency, usage crossing the level -> the app's SIGUSR1 handler running (usec)"
printf '%-8s %12s  %8s %8s %8s %6s %6s\n' path rate p50 p99 max n timeout
for rate in 50 150 300; do
	latency event "$rate"
	latency polling "$rate"
done
echo
echo "oomguard's own cost over ${secs}s"
cost idle 16
cost near 254
