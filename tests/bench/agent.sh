#!/bin/bash
# shellcheck source-path=SCRIPTDIR/../lib source-path=SCRIPTDIR
# The host agent's own cost (oomguard --cgroups) with 1, 50 and 200 guarded
# v1 cgroups, and its reaction latency, side by side in one run, printed as
# figures (no assertions), on the event and the polling path
# (AGENT_PATHS). Each cgroup is 64 MiB (gc at 75%: 48 MiB) with
# hold keeping AGENT_HOLD_MIB (8) MiB charged. For each count, one agent:
#   idle: every cgroup far below its levels, AGENT_BENCH_SECS (30) s;
#   near: a tenth of the cgroups (at least one) held AGENT_NEAR_MIB (38)
#     MiB more, just under the gc level (the row says how far under), as
#     bench.sh's near state does for one guard, AGENT_BENCH_SECS s;
#   reaction: the first cgroup's hold replaced by stepper, the workload and
#     timestamps of bench.sh's latency runs, crossing the gc level
#     AGENT_CROSSINGS (50) times at AGENT_RATE (150) MiB/s from 24 MiB
#     below it while the others idle: the time from the usage file reading
#     at or above the level to stepper's SIGUSR1 handler running.
# CPU share from /proc/PID/schedstat, RSS from VmRSS, wake-ups as voluntary
# context switches per second; "per near guard" is the near state's CPU
# above the idle state's, divided by the guards near. Settings: the
# defaults, except restart and kill off (stepper grows until its request
# comes) and gc's cooldown 10ms and require_handler no, as bench.sh's
# latency runs. Run by make bench, or alone as root under the test lock:
# OOMGUARD=build/oomguard WORKLOAD_DIR=build/workload bash tests/bench/agent.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
source "$here/lib.sh"
cg_test_setup og
cg_need_v1 "agent bench" "needs root and a v1 memory cgroup"
secs=${AGENT_BENCH_SECS:-30}
hold_mib=${AGENT_HOLD_MIB:-8}
near_mib=${AGENT_NEAR_MIB:-38}
crossings=${AGENT_CROSSINGS:-50}
rate=${AGENT_RATE:-150}
mnt=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5}' /proc/self/mountinfo)
rel=${self#"$mnt"/}
MiB=$((1 << 20))
gc=$((48 * MiB))

# window: CPU share (%) and wake-ups/s of the agent over secs seconds.
window() {
	local cpu0 cpu1 cs0 cs1
	cpu0=$(awk '{print $1}' "/proc/$og/schedstat")
	cs0=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$og/status")
	sleep "$secs"
	cpu1=$(awk '{print $1}' "/proc/$og/schedstat")
	cs1=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$og/status")
	echo "$(echo "($cpu1 - $cpu0) / ($secs * 10000000)" | bc -l) $(echo "($cs1 - $cs0) / $secs" | bc -l)"
}

# smaps_top: the agent's largest resident mappings (KiB), summed by name.
smaps_top() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6 == "" ? "[anon]" : $6 }
		/^Rss:/ { rss[name] += $2 }
		END { for (n in rss) printf "%8d KiB  %s\n", rss[n], n }' "/proc/$og/smaps" | sort -rn | head -12
}

rss_mib() {
	echo "$(awk '/^VmRSS/ {print $2}' "/proc/$og/status") / 1024" | bc -l
}

# run PATH N: N cgroups, the agent on them; prints one row. PATH event:
# as usual (v1 threshold eventfds); polling: the memory cgroupfs mounted
# read-only in a private mount namespace, as inside a container, so that
# no threshold can be registered and the guards poll, as on cgroup v2.
run() {
	local path=$1 n=$2 top=og-bench-$$-$2 i dirs=() holds=() nears=() near=$((($2 + 9) / 10)) idle busy rss0 rss1 under
	cg_create "$top" $((4096 * MiB)) >/dev/null || return 1
	for ((i = 0; i < n; i++)); do
		dirs+=("$(cg_create "$top/c$i.scope" $((64 * MiB)))")
		cg_spawn "${dirs[-1]}" "$WORKLOAD_DIR/hold" "$hold_mib" >/dev/null
		holds+=("$CG_PID")
	done
	printf '[pattern.b]\nmatch = %s/%s/*.scope\n[gc]\ncooldown = 10ms\nrequire_handler = no\n' \
		"$rel" "$top" >"$tmp/b.ini"
	printf '[restart]\nat = none\n[kill]\nat = none\n' >>"$tmp/b.ini"
	if [[ $path == polling ]]; then
		# shellcheck disable=SC2016 # expanded by the inner sh
		unshare -m sh -c 'mount -o bind,ro "$0" "$0" && exec "$@"' "$mnt" \
			"$OOMGUARD" -c "$tmp/b.ini" --cgroups b 2>"$tmp/og-$n.log" &
	else
		"$OOMGUARD" -c "$tmp/b.ini" --cgroups b 2>"$tmp/og-$n.log" &
	fi
	og=$!
	for _ in $(seq 100); do
		(($(grep -c ': guarded' "$tmp/og-$n.log") >= n)) && break
		sleep 0.1
	done
	sleep 2
	idle=$(window)
	rss0=$(rss_mib)
	# near: the last tenth, each with a second hold
	for ((i = n - near; i < n; i++)); do
		cg_spawn "${dirs[$i]}" "$WORKLOAD_DIR/hold" "$near_mib" >/dev/null
		nears+=("$CG_PID")
	done
	sleep 2
	under=$(for ((i = n - near; i < n; i++)); do cat "${dirs[$i]}/memory.usage_in_bytes"; done |
		sort -n | tail -1)
	busy=$(window)
	rss1=$(rss_mib)
	smaps_top >"$tmp/smaps-$path-$n"
	kill "${nears[@]}" && wait "${nears[@]}" 2>/dev/null
	# reaction: stepper in the first cgroup, the only process there
	kill "${holds[0]}" && wait "${holds[0]}" 2>/dev/null
	sleep 1
	cg_exec "${dirs[0]}" "$WORKLOAD_DIR/stepper" "${dirs[0]}/memory.usage_in_bytes" "$gc" "$rate" \
		"$crossings" $((gc - 24 * MiB)) >"$tmp/lat-$n"
	printf '%-7s %6d %7d %8.3f%% %6.1f %6.1f | %4d %7.2f MiB %8.3f%% %8.3f%% %6.1f | %s\n' "$path" "$n" \
		"$(grep -c ': guarded' "$tmp/og-$n.log")" "${idle% *}" "$rss0" "${idle#* }" "$near" \
		"$(echo "($gc - $under) / $MiB" | bc -l)" "${busy% *}" \
		"$(echo "(${busy% *} - ${idle% *}) / $near" | bc -l)" "$rss1" "$(stats "$tmp/lat-$n")"
	t_stop "$og"
	og=
	for ((i = n - 1; i >= 0; i--)); do cg_destroy "${dirs[$i]}"; done
	cg_destroy "$self/$top"
}

echo "agent: 64 MiB cgroups, gc at 48 MiB, $hold_mib MiB held in each; ${secs}s idle and ${secs}s with a tenth near gc;"
echo "reaction: $crossings crossings of gc at $rate MiB/s in one cgroup; $(nproc) cores, $(uname -r)"
printf '%-7s %6s %7s %9s %6s %6s | %4s %11s %9s %9s %6s | %8s %8s %8s %6s %6s\n' "" "" "" idle rss "" near \
	"below gc" near "per near" rss reaction "" "" "" ""
printf '%-7s %6s %7s %9s %6s %6s | %4s %11s %9s %9s %6s | %8s %8s %8s %6s %6s\n' path cgroups guarded cpu MiB \
	wake/s n "(max usage)" cpu guard MiB p50 p99 max n timeout
for path in ${AGENT_PATHS:-event polling}; do
	for n in 1 50 200; do
		run "$path" "$n"
	done
done
echo
echo "where the RSS goes with 200 cgroups (/proc/PID/smaps, near state, ${path}):"
cat "$tmp/smaps-$path-200"
