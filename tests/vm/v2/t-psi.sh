#!/bin/sh
# t-psi.sh - PSI triggers reach oomguard's loop through the inner epoll fd.
#
# A cgroup with memory.high 32M under memory.max 128M and `hold 48` in it:
# the kernel throttles hold above memory.high (no swap, nothing to
# reclaim), which is a memory stall in the cgroup's memory.pressure. With
# [watch] psi = "some 50ms 1s" the kernel must accept the trigger and its
# firing must wake oomguard: "memory pressure (psi trigger)" in the log
# (not "(psi averages)", the fallback for a refused trigger).
#  1. --cgroup: oomguard watches the cgroup from outside it.
#  2. entrypoint: oomguard runs hold, inside the throttled cgroup itself;
#     SIGTERM reaches hold through the throttling; and as hold does not
#     catch SIGUSR1, the throttling (which counts as the gc level) must not
#     make oomguard try to send it (require_handler).

. /payload/vmlib.sh

export OOMGUARD_WATCH_PSI="some 50ms 1s"

# psi_verdict NAME LOG: one RESULT for one run. The stall begins within
# half a second of oomguard's start and at once exceeds 50ms a second, so
# a trigger that works is seen within about a second; the bound of 3 s
# also keeps a lucky late wake-up from passing for a working trigger.
psi_verdict() {
	_line=$(grep -m1 'memory pressure (psi trigger)' "$2")
	_ms=$(($(log_ms "$_line") - $(log_ms "$(grep -m1 'watching ' "$2")")))
	if [ -n "$_line" ] && [ "$_ms" -le 3000 ] && ! grep -q 'refused psi trigger' "$2"; then
		pass "$1" "trigger accepted and fired ${_ms} ms after oomguard started: $(echo "$_line" | cut -c26-); some total $3 us"
	elif [ -n "$_line" ]; then
		fail "$1" "'memory pressure (psi trigger)' only ${_ms} ms after oomguard started (want <= 3000; some total $3 us)" -- "$2"
	else
		fail "$1" "no 'memory pressure (psi trigger)' line in oomguard's log (some total $3 us)" -- "$2"
	fi
}

# 1. Watching from outside.
app=$(cg_new psi-app 128M 32M) || exit 1
guard=$(cg_new psi-guard max) || exit 1
cg_spawn "$guard" "$TMP/watch.log" oomguard --cgroup "$app"
og=$SPAWNED
wait_line 50 "$TMP/watch.log" 'watching '
cg_spawn "$app" "$TMP/hold.out" hold 48
wait_line 100 "$TMP/watch.log" 'memory pressure \(psi trigger\)'
total=$(sed -n 's/^some .*total=//p' "$app/memory.pressure")
kill -TERM "$og"
wait_pid 30 "$og"
echo "oomguard exit $WAITED, high $(ev "$app" high)" >>"$TMP/watch.log"
psi_verdict v2-psi-trigger-watch "$TMP/watch.log" "$total"
# oomguard(8) and the README: watching a cgroup, SIGTERM ends oomguard with 0.
if [ "$WAITED" = 0 ]; then
	pass v2-psi-watch-sigterm "watching a cgroup, SIGTERM: exit 0"
else
	fail v2-psi-watch-sigterm "watching a cgroup, SIGTERM: exit $WAITED, documented 0" -- "$TMP/watch.log"
fi
cg_destroy "$app"
cg_destroy "$guard"

# 2. As the entrypoint, in the stalled cgroup.
app=$(cg_new psi-entry 128M 32M) || exit 1
cg_spawn "$app" "$TMP/entry.log" env OOMGUARD_RESTART_STARTUP=0 oomguard -- hold 48
og=$SPAWNED
wait_line 100 "$TMP/entry.log" 'memory pressure \(psi trigger\)'
total=$(sed -n 's/^some .*total=//p' "$app/memory.pressure")
kill -TERM "$og"
wait_pid 30 "$og"
echo "oomguard exit $WAITED, high $(ev "$app" high)" >>"$TMP/entry.log"
psi_verdict v2-psi-trigger-entrypoint "$TMP/entry.log" "$total"
if [ "$WAITED" = 143 ]; then
	pass v2-psi-entrypoint-exit "SIGTERM passed on to the throttled app; oomguard exits 143"
else
	fail v2-psi-entrypoint-exit "oomguard exit $WAITED after SIGTERM, want 143" -- "$TMP/entry.log"
fi
# hold does not catch SIGUSR1 and require_handler is on (the default): the
# throttling that counts as the gc level must not lead to SIGUSR1 attempts,
# only to the one warning, as at the gc level itself (test_watchdog.sh 4).
if grep -q 'does not handle SIGUSR1' "$TMP/entry.log" && ! grep -q 'SIGUSR1 to pid' "$TMP/entry.log"; then
	pass v2-psi-require-handler "throttled app without a SIGUSR1 handler: warned once, never signalled"
else
	fail v2-psi-require-handler "want 'does not handle SIGUSR1' and no 'SIGUSR1 to pid' line: $(grep -c 'SIGUSR1 to pid' "$TMP/entry.log") such lines" -- "$TMP/entry.log"
fi
cg_destroy "$app"
