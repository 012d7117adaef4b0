#!/bin/bash
# shellcheck source-path=SCRIPTDIR/../lib
# The path of a sample on real v1 cgroups, where it once went wrong:
#
#   G1. A cgroup frozen before oomguard starts (OOM killer off), watched
#       with --cgroup DIR alone, restart and kill none: the first sample
#       counts its levels from the limit (they were all 0, and the frozen
#       cgroup got SIGKILL); hold, which handles no gc request, lives.
#   G2. The entrypoint, its cgroup above the gc level from the start, the
#       app (hold) handling no gc request, require_handler on: a gc
#       request goes only to a process seen catching it after its exec.
#       Right after fork the child still shows oomguard's handlers, and a
#       request sent then killed the app (exit 138, SIGUSR1; 12, SIGUSR2).
#       GUARD_EXEC_RUNS (30) runs of each signal.
#   G3. Shutting down: SIGTERM passed on to an app that gets gc requests
#       every 20 ms (gcsim above the gc level); no gc request goes out
#       after oomguard logs the SIGTERM. GUARD_STOP_RUNS (10) runs.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
cg_test_setup og
cg_need_v1 "the path of a sample on cgroup v1" "needs root and a v1 memory cgroup"
MiB=$((1 << 20))

# stop_og: SIGTERM oomguard and wait for it (up to 10 s).
stop_og() {
	t_stop "$og"
	og=
}

# G1: frozen at the first sample.
dir=$(cg_create "og-guard1-$$" $((64 * MiB)) oom_disable)
cg_spawn "$dir" "$WORKLOAD_DIR/hold" 80 >/dev/null
app=$CG_PID
if cg_wait_frozen "$dir" 10; then
	OOMGUARD_RESTART_AT=none OOMGUARD_KILL_AT=none "$OOMGUARD" --cgroup "$dir" 2>"$tmp/og.log" &
	og=$!
	t_wait_log "$tmp/og.log" 'reserve: holding' 10
	sleep 2
	if kill -0 "$app" 2>/dev/null && ! grep -q 'SIGKILL' "$tmp/og.log"; then
		t_pass "frozen at the first sample, restart and kill none: no SIGKILL, the app alive"
	else
		t_fail "frozen at the first sample" "app $(kill -0 "$app" 2>/dev/null && echo alive || echo gone); $(cut -c1-300 "$tmp/og.log")"
	fi
	stop_og
else
	t_fail "frozen at the first sample" "hold did not freeze its cgroup"
fi
cg_destroy "$dir"

# G2: no gc request before the exec.
dir=$(cg_create "og-guard2-$$" $((256 * MiB)))
runs=${GUARD_EXEC_RUNS:-30}
for sig in USR1 USR2; do
	bad=0
	for ((i = 0; i < runs; i++)); do
		cg_spawn "$dir" env OOMGUARD_GC_REARM_BELOW=512K OOMGUARD_SUPERVISE_RESTART=never \
			"$OOMGUARD" --gc-at 1M --gc-signal "$sig" -- "$WORKLOAD_DIR/hold" 1 \
			2>"$tmp/og2.log" >/dev/null
		og=$CG_PID
		t_wait_log "$tmp/og2.log" 'started ' 5
		sleep 0.3
		stop_og
		if grep -q 'killed by signal \(10\|12\)\b' "$tmp/og2.log"; then
			bad=$((bad + 1))
			cp "$tmp/og2.log" "$tmp/og2.bad"
		fi
	done
	if ((bad == 0)); then
		t_pass "SIG$sig: no gc request before the app's exec ($runs runs)"
	else
		t_fail "SIG$sig: no gc request before the app's exec" "$bad of $runs runs killed the app: $(cat "$tmp/og2.bad")"
	fi
done
cg_destroy "$dir"

# G3: nothing once shutdown begins.
dir=$(cg_create "og-guard3-$$" $((256 * MiB)))
runs=${GUARD_STOP_RUNS:-10}
bad=0
for ((i = 0; i < runs; i++)); do
	cg_spawn "$dir" env OOMGUARD_GC_COOLDOWN=20ms OOMGUARD_WATCH_POLL_MIN=2ms \
		"$OOMGUARD" --gc-at 16M -- "$WORKLOAD_DIR/gcsim" --limit $((256 * MiB)) --live 20 \
		2>"$tmp/og3.log" >/dev/null
	og=$CG_PID
	t_wait_log "$tmp/og3.log" 'gc: .*sent' 10
	sleep 0.$((RANDOM % 10))
	stop_og
	if awk '/SIGTERM received/ { t = 1; next } t && /gc: / { bad = 1 } END { exit !bad }' "$tmp/og3.log"; then
		bad=$((bad + 1))
		cp "$tmp/og3.log" "$tmp/og3.bad"
	fi
done
if ((bad == 0)); then
	t_pass "no gc request once SIGTERM is received ($runs runs)"
else
	t_fail "no gc request once SIGTERM is received" "$bad of $runs: $(cat "$tmp/og3.bad")"
fi
cg_destroy "$dir"
t_summary
