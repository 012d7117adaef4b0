#!/bin/sh
# t-events.sh - a memory.events change wakes oomguard through inotify, with
# a reaction that polling cannot explain.
#
# oomguard polls at most every 10 s here (poll_max 10s, max_growth 1MiB:
# the headroom to gc.at divided by the planned growth is far above 10 s),
# with gc.at 50% of a 128M memory.max (64 MiB). The app is stepper: it
# touches 40 MiB, then grows at 16 MiB/s, notes when memory.current reaches
# 64 MiB, and prints how long the SIGUSR1 took to arrive after that, or
# "timeout" when none came within 1 s. The whole run lasts about 3 s, well
# inside the first 10 s poll interval.
#  1. Control, memory.high unset: memory.events does not change, so
#     nothing wakes oomguard: "timeout", no gc request, no high event.
#  2. memory.high 68M: crossing it bumps the `high` counter, memory.events
#     is modified, inotify wakes oomguard, which samples ("sample
#     (memory.events)" in its debug log), finds the gc level passed and
#     sends SIGUSR1: stepper reports a latency under a second.

. /payload/vmlib.sh

# rearm_below must be under gc.at.
export OOMGUARD_WATCH_POLL_MAX=10s OOMGUARD_WATCH_MAX_GROWTH=1MiB OOMGUARD_GC_REARM_BELOW=40%

# run_stepper NAME HIGH: prints stepper's verdict; the log in $TMP/NAME.log.
run_stepper() {
	_dir=$(cg_new "ev-$1" 128M "$2") || return 1
	cg_spawn "$_dir" "$TMP/$1.log" oomguard --log-level debug --gc-at 50% \
		--restart-at none --kill-at none \
		-- stepper "$_dir/memory.current" $((64 << 20)) 16 1 $((40 << 20))
	wait_pid 200 "$SPAWNED"
	_high=$(ev "$_dir" high)
	echo "oomguard exit $WAITED, high $_high" >>"$TMP/$1.log"
	cg_destroy "$_dir"
	# stepper's only stdout line: a number (usec) or "timeout".
	grep -E '^([0-9]+|timeout)$' "$TMP/$1.log" | head -n 1
	echo "$_high"
}

# shellcheck disable=SC2046 # split into the words it prints
set -- $(run_stepper nohigh max)
if [ "${1:-}" = timeout ] && [ "${2:-}" = 0 ] && ! grep -q 'gc: ' "$TMP/nohigh.log"; then
	pass v2-events-control "memory.high unset: no memory.events change, no gc request within 1 s of the crossing (polling is 10 s)"
else
	fail v2-events-control "stepper '${1:-nothing}', high counter ${2:-?}: want timeout, 0 and no gc line" -- "$TMP/nohigh.log"
fi

# shellcheck disable=SC2046 # split into the words it prints
set -- $(run_stepper high 68M)
lat=${1:-nothing}
woke=$(grep -m1 'sample (memory.events): .* action gc' "$TMP/high.log")
case "$lat" in
[0-9]*) ok=1 ;;
*) ok=0 ;;
esac
if [ "$ok" = 1 ] && [ "$lat" -lt 1000000 ] && [ -n "$woke" ] && [ "${2:-0}" -gt 0 ]; then
	pass v2-events-inotify "memory.high 68M crossed: high counter ${2}, woken by memory.events, SIGUSR1 $((lat / 1000)) ms after 64 MiB (poll_max 10s)"
else
	fail v2-events-inotify "stepper '$lat' (want usec < 1000000), high counter ${2:-?}, 'sample (memory.events) ... action gc' line: ${woke:-none}" -- "$TMP/high.log"
fi
