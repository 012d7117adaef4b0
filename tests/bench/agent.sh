#!/bin/bash
# shellcheck source-path=SCRIPTDIR/../lib
# The host agent's own cost (oomguard --cgroups) with 1, 50 and 200 guarded
# v1 cgroups, side by side in one run, printed as figures (no assertions):
# each cgroup 64 MiB with hold keeping AGENT_HOLD_MIB (8) MiB charged, far
# below every level (idle); the agent's CPU share over AGENT_BENCH_SECS (30)
# seconds from /proc/PID/schedstat, its RSS (VmRSS) and the wake-ups (its
# voluntary context switches per second). Run by make bench, or alone as
# root under the test lock: OOMGUARD=build/oomguard WORKLOAD_DIR=build/workload
# bash tests/bench/agent.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
cg_test_setup og
cg_need_v1 "agent bench" "needs root and a v1 memory cgroup"
secs=${AGENT_BENCH_SECS:-30}
hold_mib=${AGENT_HOLD_MIB:-8}
mnt=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5}' /proc/self/mountinfo)
rel=${self#"$mnt"/}
MiB=$((1 << 20))

# run N: N cgroups, the agent on them; prints one row.
run() {
	local n=$1 top=og-bench-$$-$1 i dirs=() cpu0 cpu1 cs0 cs1 rss
	cg_create "$top" $((4096 * MiB)) >/dev/null || return 1
	for ((i = 0; i < n; i++)); do
		dirs+=("$(cg_create "$top/c$i.scope" $((64 * MiB)))")
		cg_spawn "${dirs[-1]}" "$WORKLOAD_DIR/hold" "$hold_mib" >/dev/null
	done
	printf '[pattern.b]\nmatch = %s/%s/*.scope\n' "$rel" "$top" >"$tmp/b.ini"
	"$OOMGUARD" -c "$tmp/b.ini" --cgroups b 2>"$tmp/og-$n.log" &
	og=$!
	for _ in $(seq 100); do
		(($(grep -c ': guarded' "$tmp/og-$n.log") >= n)) && break
		sleep 0.1
	done
	sleep 2
	cpu0=$(awk '{print $1}' "/proc/$og/schedstat")
	cs0=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$og/status")
	sleep "$secs"
	cpu1=$(awk '{print $1}' "/proc/$og/schedstat")
	cs1=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$og/status")
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$og/status")
	printf '%6d %9d %9.3f%% %9.1f %9.1f\n' "$n" "$(grep -c ': guarded' "$tmp/og-$n.log")" \
		"$(echo "($cpu1 - $cpu0) / ($secs * 10000000)" | bc -l)" "$(echo "$rss / 1024" | bc -l)" \
		"$(echo "($cs1 - $cs0) / $secs" | bc -l)"
	t_stop "$og"
	og=
	for ((i = n - 1; i >= 0; i--)); do cg_destroy "${dirs[$i]}"; done
	cg_destroy "$self/$top"
}

echo "agent, idle: $hold_mib MiB held in each 64 MiB cgroup, ${secs}s each, $(nproc) cores, $(uname -r)"
printf '%6s %9s %10s %9s %9s\n' cgroups guarded cpu rss_mib wakeups/s
for n in 1 50 200; do
	run "$n"
done
