#!/bin/sh
# t-stall.sh - the stalls v2 has instead of a freeze.
#  1. Throttled above memory.high: memory.max 128M, memory.high 100M
#     (78%), gc.at 75%. gcsim keeps 85% of 128M live and catches SIGUSR1
#     without freeing, so it sits throttled above memory.high with the
#     `high` counter climbing. oomguard must keep asking it to free memory
#     (a gc request every cooldown), and the kernel must not kill it.
#  2. memory.high below gc.at (48M of 128M): the app stalls at memory.high,
#     far below the levels oomguard derives from memory.max; the rising
#     `high` counter must count as the gc level. With memory.high alone
#     and no memory.max oomguard has no levels at all: a known gap,
#     reported as SKIP "gap: ..." until oomguard reacts, then as PASS.
#  3. The kernel OOM-kills the app (memory.max 64M; gc and restart off and
#     kill.at 1G, above the limit, so that oomguard itself never acts):
#     oomguard logs the kill with the oom_kill counter and the death by
#     SIGKILL, and follows the restart policy: with the default on-watchdog
#     it exits 137; with restart = always it restarts the app with
#     back-off.

. /payload/vmlib.sh

# 1. Throttled above memory.high.
dir=$(cg_new stall-high 128M 100M) || exit 1
cg_spawn "$dir" "$TMP/high.log" oomguard --gc-at 75% --restart-at none --kill-at none --log-level debug \
	-- gcsim --live 85 --garbage-ratio 1.0 --usr1 catch
og=$SPAWNED
wait_line 100 "$TMP/high.log" 'gc: '
h1=$(ev "$dir" high)
g1=$(grep -c 'gc: .*SIGUSR1 to pid [0-9]*: sent' "$TMP/high.log")
sleep 4
h2=$(ev "$dir" high)
g2=$(grep -c 'gc: .*SIGUSR1 to pid [0-9]*: sent' "$TMP/high.log")
cur=$(cat "$dir/memory.current")
alive=no
_alive "$og" && alive=yes
kill -TERM "$og"
wait_pid 50 "$og"
oom=$(ev "$dir" oom_kill)
echo "oomguard exit $WAITED; high $h1 -> $h2; gc lines $g1 -> $g2; current $cur" >>"$TMP/high.log"
if [ "$h2" -gt "$h1" ] && [ "$h1" -gt 0 ] && [ "$cur" -gt $((100 << 20)) ] && [ "$oom" = 0 ] &&
	[ "$alive" = yes ]; then
	pass v2-stall-throttled "held above memory.high 100M: current $((cur >> 20)) MiB, high counter $h1 -> $h2 in 4 s, no oom_kill"
else
	fail v2-stall-throttled "want the high counter climbing, current above 100M, no oom_kill: high $h1 -> $h2, current $cur, oom_kill $oom, running $alive" -- "$TMP/high.log"
fi
# cooldown 1s: three or four more requests in those 4 s (a sample lands
# just after each cooldown); at least 2, so that oomguard, charged in the
# same throttled cgroup, is seen to keep asking.
if [ "$g1" -ge 1 ] && [ $((g2 - g1)) -ge 2 ]; then
	pass v2-stall-gc "gc requests while throttled: $g1 at first, $((g2 - g1)) more in 4 s (cooldown 1s)"
else
	fail v2-stall-gc "gc requests while throttled: $g1, then $((g2 - g1)) in 4 s (want >= 1, then >= 2)" -- "$TMP/high.log"
fi
cg_destroy "$dir"

# 2. Stalled below every level oomguard derives from memory.max.
# stall_run NAME MAX HIGH: runs gcsim (85% of 128M live, SIGUSR1 caught and
# ignored) under oomguard's defaults for 3 s; log in $TMP/NAME.log. Prints
# the high counter and the number of gc requests sent.
stall_run() {
	_dir=$(cg_new "$1" "$2" "$3") || return 1
	cg_spawn "$_dir" "$TMP/$1.log" oomguard --log-level debug \
		-- gcsim --limit 128M --live 85 --garbage-ratio 1.0 --usr1 catch
	_og=$SPAWNED
	usleep 3000000
	_high=$(ev "$_dir" high)
	kill -TERM "$_og"
	wait_pid 50 "$_og"
	echo "oomguard exit $WAITED; high counter $_high; current $(cat "$_dir/memory.current")" >>"$TMP/$1.log"
	cg_destroy "$_dir"
	echo "$_high $(grep -c 'gc: .*SIGUSR1 to pid [0-9]*: sent' "$TMP/$1.log")"
}

# memory.high 48M, far below gc.at (96M of 128M): throttling counts as the
# gc level, so the app must be asked to free memory.
# shellcheck disable=SC2046 # split into the words it prints
set -- $(stall_run stall-below 128M 48M)
if [ "${1:-0}" -gt 0 ] && [ "${2:-0}" -gt 0 ]; then
	pass v2-stall-below-gc "throttled at memory.high 48M (high counter $1), below gc.at 96M: $2 gc requests"
else
	fail v2-stall-below-gc "high counter ${1:-?}, gc requests ${2:-?}: want both > 0" -- "$TMP/stall-below.log"
fi

# memory.high alone, no memory.max (systemd MemoryHigh=, a throttled
# container without a hard limit): oomguard has no limit to take levels
# from. A known gap; SKIP until oomguard does something about it (a gc
# request, or a log line about memory.high or the throttling).
# shellcheck disable=SC2046 # split into the words it prints
set -- $(stall_run stall-highonly max 64M)
if [ "${2:-0}" -gt 0 ] || grep -qE 'memory\.high|throttl' "$TMP/stall-highonly.log"; then
	pass v2-stall-highonly "memory.high alone: oomguard reacted (high counter ${1:-?}, $2 gc requests)"
else
	skip v2-stall-highonly "gap: memory.high 64M and no memory.max: throttled (high counter ${1:-?}) and oomguard silent: '$(grep -m1 -o 'limit [^:]*: gc at [^,]*' "$TMP/stall-highonly.log")'"
fi

# 3. The kernel OOM-kills the app.
dir=$(cg_new stall-oom 64M) || exit 1
cg_spawn "$dir" "$TMP/oom.log" oomguard --gc-at none --restart-at none --kill-at 1G \
	-- gcsim --rate 64
wait_pid 150 "$SPAWNED"
oom=$(ev "$dir" oom_kill)
# The kernel's OOM killer is on at memory.max: a rescue never sends a
# SIGKILL of oomguard's own (it raced the kernel's and named the end
# oomguard's doing).
if [ "$WAITED" = 137 ] && [ "$oom" -ge 1 ] &&
	grep -q 'the app (pid [0-9]*) was killed by signal 9 (exit code 137)' "$TMP/oom.log" &&
	! grep -q 'rescue:.*SIGKILL' "$TMP/oom.log"; then
	pass v2-stall-oom-kill "kernel OOM kill (oom_kill $oom) logged as 'killed by signal 9'; restart on-watchdog: oomguard exits 137"
else
	fail v2-stall-oom-kill "exit $WAITED (want 137), oom_kill $oom (want >= 1), 'killed by signal 9' line, no rescue SIGKILL" -- "$TMP/oom.log"
fi
named=$(grep -m1 "the kernel OOM-killed 1 process(es) in $dir (oom_kill counter 1)" "$TMP/oom.log")
if [ -n "$named" ]; then
	pass v2-stall-oom-named "$(echo "$named" | cut -c26-)"
else
	fail v2-stall-oom-named "no 'the kernel OOM-killed 1 process(es) in $dir (oom_kill counter 1)' (memory.events oom_kill $oom)" -- "$TMP/oom.log"
fi
cg_destroy "$dir"

dir=$(cg_new stall-oom-always 64M) || exit 1
export OOMGUARD_SUPERVISE_RESTART=always OOMGUARD_SUPERVISE_RESTART_DELAY=200ms
cg_spawn "$dir" "$TMP/always.log" oomguard --gc-at none --restart-at none --kill-at 1G \
	-- gcsim --rate 64
og=$SPAWNED
unset OOMGUARD_SUPERVISE_RESTART OOMGUARD_SUPERVISE_RESTART_DELAY
two_kills() {
	[ "$(grep -c 'killed by signal 9' "$TMP/always.log")" -ge 2 ]
}
wait_until 150 two_kills
kill -TERM "$og"
wait_pid 50 "$og"
oom=$(ev "$dir" oom_kill)
delays=$(grep -o 'restarting the app in [0-9a-z]* (it ended on its own)' "$TMP/always.log" |
	awk '{ print $5 }' | head -n 2 | tr '\n' ' ')
if [ "$oom" -ge 2 ] && [ "$delays" = "200ms 400ms " ] && ! grep -q 'rescue:.*SIGKILL' "$TMP/always.log"; then
	pass v2-stall-oom-restart "restart = always: OOM-killed $oom times, restarted after $delays"
else
	fail v2-stall-oom-restart "oom_kill $oom (want >= 2), restart delays '$delays' (want '200ms 400ms '), no rescue SIGKILL" -- "$TMP/always.log"
fi
cg_destroy "$dir"
