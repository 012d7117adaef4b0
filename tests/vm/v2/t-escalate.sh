#!/bin/sh
# t-escalate.sh - escalation to the restart signal and SIGKILL on cgroup v2,
# with restarts and back-off (the v2 twin of test_watchdog.sh's part 2).
#
# gcsim holds 92% of a 256M memory.max live (above restart.at 90%, below
# memory.max, kill.at none) and catches SIGUSR1 without freeing anything:
#  1. gc request, then SIGTERM; gcsim exits 0; restarted after 1s.
#  2. with --ignore-term: SIGKILL a grace period (1s) after SIGTERM;
#     restarted after 200ms, then 400ms (back-off).
# [restart] startup is cut to 1s (default 10s) to fit the VM's time budget.

. /payload/vmlib.sh

export OOMGUARD_RESTART_STARTUP=1s

# 1. The restart signal.
dir=$(cg_new esc-restart 256M) || exit 1
cg_spawn "$dir" "$TMP/restart.log" oomguard --kill-at none -c /dev/null \
	-- gcsim --live 92 --garbage-ratio 1.0 --usr1 catch --exit-code 0
og=$SPAWNED
wait_line 200 "$TMP/restart.log" 'restarting the app'
kill -TERM "$og"
wait_pid 50 "$og"
if grep -q 'gc: .*SIGUSR1 to pid' "$TMP/restart.log" &&
	grep -q 'restart: .*SIGTERM to pid [0-9]*: sent' "$TMP/restart.log" &&
	grep -q 'exited with code 0' "$TMP/restart.log" &&
	grep -q 'restarting the app in 1s (restart level)' "$TMP/restart.log"; then
	pass v2-escalate-restart "ignored gc: SIGTERM at restart.at ($(grep -m1 'restart: ' "$TMP/restart.log" | sed 's/.*restart: workingset \([^ ]*\) .*(\([0-9.]*%\)).*/\1, \2/')), graceful exit, restarted in 1s"
else
	fail v2-escalate-restart "want gc, SIGTERM, exit 0, 'restarting the app in 1s (restart level)'" -- "$TMP/restart.log"
fi
oom_restart=$(ev "$dir" oom_kill)
cg_destroy "$dir"

# 2. SIGKILL after the grace period, restarts backing off.
dir=$(cg_new esc-kill 256M) || exit 1
# A prefix assignment to a shell function does not reliably reach its
# commands in ash; export it for the one spawn.
export OOMGUARD_SUPERVISE_RESTART_DELAY=200ms
cg_spawn "$dir" "$TMP/kill.log" oomguard --kill-at none --grace 1s \
	-- gcsim --live 92 --garbage-ratio 1.0 --usr1 catch --ignore-term
og=$SPAWNED
unset OOMGUARD_SUPERVISE_RESTART_DELAY
two_restarts() {
	[ "$(grep -c 'restarting the app' "$TMP/kill.log")" -ge 2 ]
}
wait_until 300 two_restarts
kill -TERM "$og"
wait_pid 30 "$og"
delays=$(grep -o 'restarting the app in [0-9a-z]*' "$TMP/kill.log" | awk '{ print $NF }' |
	head -n 2 | tr '\n' ' ')
if grep -q 'kill: .*SIGKILL to pid [0-9]*: sent' "$TMP/kill.log" &&
	grep -q 'killed by signal 9' "$TMP/kill.log" && [ "$delays" = "200ms 400ms " ]; then
	pass v2-escalate-kill "ignored SIGTERM: SIGKILL after grace; restarts back off ($delays)"
else
	fail v2-escalate-kill "want SIGKILL, 'killed by signal 9', delays '200ms 400ms ', got '$delays'" -- "$TMP/kill.log"
fi
t_term=$(log_ms "$(grep -m1 'restart: .*SIGTERM' "$TMP/kill.log")")
t_kill=$(log_ms "$(grep -m1 'kill: .*SIGKILL' "$TMP/kill.log")")
gap=$((t_kill - t_term))
if [ "$gap" -ge 1000 ] && [ "$gap" -lt 1500 ]; then
	pass v2-escalate-grace "SIGKILL ${gap} ms after SIGTERM (grace 1s)"
else
	fail v2-escalate-grace "SIGKILL ${gap} ms after SIGTERM, want 1000-1499" -- "$TMP/kill.log"
fi
oom_kill=$(ev "$dir" oom_kill)
if [ "$oom_restart" = 0 ] && [ "$oom_kill" = 0 ]; then
	pass v2-escalate-no-oom "no kernel OOM kill in either run: oomguard did all the ending"
else
	fail v2-escalate-no-oom "oom_kill $oom_restart in the restart run, $oom_kill in the kill run; want 0" -- "$TMP/restart.log" "$TMP/kill.log"
fi
cg_destroy "$dir"
