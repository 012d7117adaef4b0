#!/bin/bash
# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../lib
# oomguard's own memory cgroup full (v1, the OOM killer disabled in it):
#  1. a sidecar (oomguard --cgroup DIR --pid P) in a 64M cgroup of its own
#     that another process fills until it freezes there (under_oom 1): the
#     memory oomguard locked at start-up is all it touches, so it carries
#     on: a limit lowered under the app is seen and gc requests follow,
#     it never waits in the kernel (state D), and SIGTERM ends it with
#     exit 0 while its cgroup is still frozen;
#  2. the entrypoint in the app's cgroup, which the app fills until it
#     freezes: that is the rescue (the reserve released, the app's SIGTERM
#     handler runs), and oomguard exits with the app's code (42).
# Each: the limits as the operator left them, nothing outside the cgroups
# signalled; 1: no descriptor leak.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
f_setup

# 1. The sidecar's cgroup full.
f_gcsim fself
own=$(cg_create "og-fself-own-$$" 64M oom_disable)
own_limits0=$(f_limits "$own")
# Debug: the repeated gc requests are logged at debug.
cg_spawn "$own" "$OOMGUARD" --log-level debug --cgroup "$dir" --pid "$app" --gc-at 75% \
	2>"$tmp/og.log"
og=$CG_PID
t_wait_log "$tmp/og.log" 'limit 256.0MiB: gc at 192.0MiB' 10 || t_fail "start" "$(cat "$tmp/og.log")"
sleep 0.5
fds0=$(f_fds "$og")
# hold parks in the OOM wait of oomguard's cgroup, which it fills.
cg_spawn "$own" "$WORKLOAD_DIR/hold" 128 >/dev/null
hog=$CG_PID
if ! cg_wait_frozen "$own" 10; then
	t_fail "own cgroup full" "oomguard's cgroup did not freeze: usage $(cg_usage "$own")"
else
	mark=$(f_mark "$tmp/og.log")
	echo 200M >"$dir/memory.limit_in_bytes"
	f_wait_after "$tmp/og.log" "$mark" 'limit 200.0MiB: gc at 150.0MiB' 5 &&
		f_wait_after "$tmp/og.log" "$mark" "gc: .*SIGUSR1 to pid $app: sent" 5
	seen=$?
	sleep 2
	sent=$(f_count_after "$tmp/og.log" "$mark" "gc: .*SIGUSR1 to pid $app: sent")
	state=$(awk '{ print $3 }' "/proc/$og/stat")
	frozen=$(cg_under_oom "$own")
	if ((seen == 0 && sent >= 2)) && [[ $state != D && $frozen == 1 ]]; then
		t_pass "sidecar, its own cgroup full and frozen: the new limit seen, $sent gc requests in 2 s, oomguard in state $state"
	else
		t_fail "sidecar, its own cgroup full" "gc requests $sent, state $state, under_oom $frozen: $(tail -n +"$((mark + 1))" "$tmp/og.log" | tail -3)"
	fi
	frozen=$(cg_under_oom "$own")
	# f_stop, with a bound: an oomguard parked in its cgroup's OOM wait
	# would never end on SIGTERM.
	sleep 0.5
	fds1=$(f_fds "$og") limits=$(f_limits "$dir")
	kill -TERM "$og"
	t_timeout 5 tail --pid="$og" -f /dev/null || kill -KILL "$og"
	wait "$og" 2>/dev/null
	rc=$?
	# Registering the new limit's v1 thresholds allocates kernel memory
	# charged to oomguard's own (full) cgroup: the kernel may refuse it,
	# and oomguard then closes the old ones and polls (its log says so).
	fewer=0
	grep -q 'cannot register v1 threshold notifications' "$tmp/og.log" && fewer=1
	if ((rc == 0 && (fds1 == fds0 || (fewer && fds1 < fds0)))) && [[ $frozen == 1 ]]; then
		t_pass "sidecar, its own cgroup frozen: SIGTERM, exit 0; descriptors $fds0 before, $fds1 after$( ((fewer)) && echo " (the new thresholds refused: polling)")"
	else
		t_fail "sidecar, its own cgroup frozen: SIGTERM" "exit $rc (want 0), descriptors $fds0 then $fds1, under_oom $frozen: $(tail -2 "$tmp/og.log")"
	fi
	if [[ ${limits%% *} == $((200 << 20)) && $(f_limits "$own") == "$own_limits0" ]]; then
		t_pass "sidecar: the limits as the operator left them"
	else
		t_fail "sidecar: limits" "the app's $limits, oomguard's $(f_limits "$own") (was $own_limits0)"
	fi
fi
{
	kill -KILL "$hog" "$app"
	wait "$hog" "$app"
} 2>/dev/null
cg_destroy "$own"
cg_destroy "$dir"

# 2. The entrypoint's cgroup, the app's, full: the rescue. Under
# AddressSanitizer mlockall() is a no-op and oomguard can freeze with the
# app (tests/integration/test_rescue.sh).
if grep -qa __asan_init "$OOMGUARD"; then
	t_skip "entrypoint, its cgroup full" "mlockall is a no-op under AddressSanitizer"
else
	dir=$(cg_create "og-fself-ep-$$" 256M oom_disable)
	limits0=$(f_limits "$dir")
	OOMGUARD_SUPERVISE_RESTART=never cg_run "$dir" 30 "$OOMGUARD" --kill-at none --grace 3s \
		-- "$WORKLOAD_DIR/burst" --term exit:42 >"$tmp/ep.out" 2>"$tmp/ep.log"
	rc=$?
	limits=$(f_limits "$dir")
	if ((rc == 42)) && grep -q 'rescue: ' "$tmp/ep.log" && grep -q '^handler SIGTERM' "$tmp/ep.out" &&
		[[ $limits == "$limits0" ]]; then
		t_pass "entrypoint, its cgroup (the app's) full: rescued, the app's SIGTERM handler ran, exit 42 ($(grep -m1 'rescue: ' "$tmp/ep.log" | cut -c26- | cut -c1-70)...)"
	else
		t_fail "entrypoint, its cgroup full" "exit $rc (want 42), limits $limits (were $limits0): $(tail -3 "$tmp/ep.log")"
	fi
	cg_destroy "$dir"
fi
f_sentinel_check "own cgroup full"
t_summary
