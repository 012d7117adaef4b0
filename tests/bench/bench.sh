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
# registered. Beside them, side by side in the same run, the floors: the
# kernel's mechanisms with nothing of oomguard around them (floor.c):
# floor-event, a threshold eventfd alone, no polling; floor-poll, a 2 ms
# timer reading the usage, nothing else. oomguard's event path is both at
# once. BENCH_CROSSINGS (default 50) crossings per rate and path.
#
# Cost: oomguard watching a cgroup for BENCH_SECS (default 60) seconds
# while its usage is far below every level (idle) and 1 MiB below the gc
# level (near), with CPU time from /proc/PID/schedstat and memory from
# /proc/PID/status.
#
# Rescue: BENCH_RESCUES (default 50) freezes, each in a fresh 256 MiB cgroup
# with the OOM killer disabled, oomguard as the entrypoint of burst (which
# fills the cgroup as fast as it can and handles SIGTERM by exiting 42) with the default configuration except [kill] at = none and
# [supervise] restart = never, so that the rescue is what ends the freeze
# and oomguard exits with the app's code. The memory pressure files are
# hidden from oomguard (/dev/null in a private mount namespace), so that it
# rescues frozen cgroups only, not a moment before. oomwait, outside the
# cgroup with a real-time priority, notes the freeze through the v1 OOM
# eventfd; burst notes its last page write before the handler. Printed: the
# time from the freeze to the app's SIGTERM handler, and how each run ended:
# gracefully (the handler ran and the app's own 42 came back), by SIGKILL,
# otherwise, or hung (killed after 20 s).
#
# Hints: the Go example with the runtime hints, the gc signals, both and
# neither (tests/bench/hints.sh says how).
#
# Survival: a fast collector (churn) in 128 MiB under the default settings,
# growth rates x live shares x event and polling paths (survival.sh says
# what is measured).
#
# Metrics: the reaction latency with the metrics endpoint off, scraped,
# and under hostile clients (metrics.sh says how).
#
# BENCH_RATES (default "50 150 300") are the latency runs' growth rates
# in MiB/s. BENCH_ONLY (a list of latency, cost, rescue, survival, hints,
# metrics; all by default) picks the sections, e.g. BENCH_ONLY=rescue.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cgroup.sh"
source "$here/../lib/testlib.sh"
source "$here/lib.sh"
tmp=$(mktemp -d)
trap 'cg_cleanup_all; rm -rf "$tmp"' EXIT
: "${OOMGUARD:?}" "${WORKLOAD_DIR:?}"
crossings=${BENCH_CROSSINGS:-50}
secs=${BENCH_SECS:-60}
rescues=${BENCH_RESCUES:-50}
only=" ${BENCH_ONLY:-latency cost rescue survival hints metrics} "
only=${only//,/ }
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

latency() { # PATH RATE
	local path=$1 rate=$2 dir out
	dir=$(cg_create "og-bench-$path-$rate-$$" $((512 * MiB))) || exit 1
	out=$(mktemp)
	local app=("$WORKLOAD_DIR/stepper" "$dir/memory.usage_in_bytes" "$level" "$rate" "$crossings" $((208 * MiB)))
	local cmd=("$OOMGUARD" --gc-at 256M --restart-at none --kill-at none -- "${app[@]}")
	case $path in
	polling)
		cg_exec "$dir" unshare -m sh -c 'mount -o bind,ro "$0" "$0" && exec "$@"' "$mnt" "${cmd[@]}" >"$out" ;;
	floor-*)
		cg_exec "$dir" "$WORKLOAD_DIR/floor" "${path#floor-}" "$dir" "$level" $((232 * MiB)) 2000 -- \
			"${app[@]}" >"$out" ;;
	*)
		cg_exec "$dir" "${cmd[@]}" >"$out" ;;
	esac
	printf '%-11s %6s MiB/s  %s\n' "$path" "$rate" "$(stats "$out")"
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

# The variables above tune the latency runs; a rescue runs with oomguard's
# defaults.
rescue_env=(env -u OOMGUARD_WATCH_METRIC -u OOMGUARD_GC_COOLDOWN -u OOMGUARD_GC_REARM_BELOW
	-u OOMGUARD_GC_REQUIRE_HANDLER OOMGUARD_SUPERVISE_RESTART=never)
rt=()
chrt -f 10 true 2>/dev/null && rt=(chrt -f 10)
PSI_FILES=$("$OOMGUARD" probe 2>/dev/null | awk '/^psi file:/ { print $3 }')
[[ -e /proc/pressure/memory ]] && PSI_FILES+=" /proc/pressure/memory"
export PSI_FILES

# rescue_once I: one freeze and its rescue. Appends the rescue time (usec,
# from oomwait's freeze) to $tmp/oom, from the last write to $tmp/touch
# ("timeout" when the handler never ran), how it ended to $tmp/ends, and the
# time from the app's start to the freeze (ms) to $tmp/freeze.
rescue_once() {
	local dir rc wpid oom start handler touch end
	dir=$(cg_create "og-bench-rescue-$1-$$" $((256 * MiB)) oom_disable) || exit 1
	"${rt[@]}" "$WORKLOAD_DIR/oomwait" "$dir" >"$tmp/oomwait" 2>&1 &
	wpid=$!
	until grep -q '^ready' "$tmp/oomwait"; do
		kill -0 "$wpid" 2>/dev/null || { cat "$tmp/oomwait" >&2; exit 1; }
		sleep 0.01
	done
	t_timeout 20 unshare -m sh -c 'for f in $PSI_FILES; do mount --bind /dev/null "$f" || exit 125; done
		echo $$ >"$0/cgroup.procs" && exec "$@"' "$dir" "${rescue_env[@]}" \
		"$OOMGUARD" --kill-at none --log-level warn -- "$WORKLOAD_DIR/burst" --term exit:42 \
		>"$tmp/app" 2>"$tmp/log"
	rc=$?
	cg_destroy "$dir"
	wait "$wpid" 2>/dev/null
	oom=$(awk '$1 == "oom" { print $2; exit }' "$tmp/oomwait")
	read -r _ start _ < <(grep -m1 '^start ' "$tmp/app")
	read -r _ _ handler _ _ _ _ touch < <(grep -m1 '^handler SIGTERM ' "$tmp/app")
	if [[ -z ${handler:-} ]]; then
		echo timeout | tee -a "$tmp/oom" >>"$tmp/touch"
	elif [[ -z $oom ]]; then
		echo "no freeze" | tee -a "$tmp/oom" >>"$tmp/touch"
	else
		echo $((handler - oom)) >>"$tmp/oom"
		echo $((handler - touch)) >>"$tmp/touch"
	fi
	[[ -n $oom && -n ${start:-} ]] && echo $(((oom - start) / 1000)) >>"$tmp/freeze"
	case $rc in
	42) end=$([[ -n ${handler:-} ]] && echo graceful || echo other) ;;
	137) end=sigkill ;;
	124) end=hung ;;
	*) end=other ;;
	esac
	[[ $end == graceful ]] || echo "rescue run $1: exit $rc: $(tail -3 "$tmp/log" | tr '\n' ' ')" >&2
	echo "$end" >>"$tmp/ends"
}

rescue() {
	local i n
	: >"$tmp/oom" && : >"$tmp/touch" && : >"$tmp/ends" && : >"$tmp/freeze"
	for ((i = 1; i <= rescues; i++)); do
		rescue_once "$i"
	done
	printf '%-20s  %8s %8s %8s %6s %6s\n' from p50 p99 max n timeout
	printf '%-20s  %s\n' "the freeze (oomwait)" "$(stats "$tmp/oom")"
	printf '%-20s  %s\n' "the last write" "$(stats "$tmp/touch")"
	n=$(wc -l <"$tmp/ends")
	awk -v n="$n" '{ c[$1]++ } END {
		printf "ended: graceful %d/%d (%.0f%%), SIGKILL %d, other %d, hung %d\n",
			c["graceful"], n, 100 * c["graceful"] / n, c["sigkill"], c["other"], c["hung"] }' "$tmp/ends"
	sort -n "$tmp/freeze" | awk -v nf="$(grep -c 'no freeze' "$tmp/oom")" '{ v[NR] = $1 } END {
		if (NR) printf "start -> freeze: p50 %d ms, max %d ms (%d freezes", v[int((NR - 1) / 2) + 1], v[NR], NR
		printf "%s%d runs without a freeze)\n", NR ? "; " : "(", nf }'
}

echo "oomguard benchmark, $(date -u +%Y-%m-%dT%H:%MZ), kernel $(uname -r), $(nproc) cores"
if [[ $only == *" latency "* ]]; then
	echo "gc level 256 MiB (limit 512 MiB), poll_min 2ms, max_growth 1GiB, $crossings crossings each"
	echo
	echo "reaction latency, usage crossing the level -> the app's SIGUSR1 handler running (usec)"
	printf '%-11s %12s  %8s %8s %8s %6s %6s\n' path rate p50 p99 max n timeout
	for rate in ${BENCH_RATES:-50 150 300}; do
		latency event "$rate"
		latency polling "$rate"
		latency floor-event "$rate"
		latency floor-poll "$rate"
	done
fi
if [[ $only == *" cost "* ]]; then
	echo
	echo "oomguard's own cost over ${secs}s"
	cost idle 16
	cost near 254
fi
if [[ $only == *" rescue "* ]]; then
	echo
	echo "rescue of a frozen cgroup (256 MiB, OOM killer off), $rescues freezes:"
	echo "time to the app's SIGTERM handler (usec)"
	rescue
fi
if [[ $only == *" survival "* ]]; then
	echo
	bash "$here/survival.sh"
fi
if [[ $only == *" hints "* ]]; then
	source "$here/hints.sh"
	hints_bench
fi
if [[ $only == *" metrics "* ]]; then
	echo
	bash "$here/metrics.sh"
fi
