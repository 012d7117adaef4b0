#!/bin/sh
# t-probe.sh - `oomguard probe` on a real v2 cgroup, against the kernel's
# own files.
#
# og-probe: memory.max 64M, memory.high 48M; one process holds 40 MiB and
# a second one held 16 MiB for two seconds (throttled above memory.high:
# the `high` counter and the PSI totals are non-zero). probe must show
# memory.max and memory.high to the byte, the memory.events counters as the
# file has them, the usage within 1 MiB of memory.current, the cgroup's own
# memory.pressure, and inotify on memory.events and a PSI trigger as
# available (both tried for real). The same in --json, and for --pid. A
# cgroup without limits shows "none" for both, and the watchdog on it logs
# "limit none" with every level off.

. /payload/vmlib.sh

dir=$(cg_new probe 64M 48M) || exit 1
cg_spawn "$dir" "$TMP/hold40.out" hold 40
holder=$SPAWNED
wait_line 100 "$TMP/hold40.out" '^ready$'
cg_spawn "$dir" "$TMP/hold16.out" hold 16
burst=$SPAWNED
high_counted() {
	[ "$(ev "$dir" high)" -gt 0 ]
}
wait_until 100 high_counted
usleep 2000000
kill -9 "$burst"
wait "$burst" 2>/dev/null

cur1=$(cat "$dir/memory.current")
oomguard probe --cgroup "$dir" >"$TMP/probe.txt" 2>&1
prc=$?
cur2=$(cat "$dir/memory.current")
events=$(tr '\n' ' ' <"$dir/memory.events" | sed 's/ $//')
oomguard probe --cgroup "$dir" --json >"$TMP/probe.json" 2>&1
jrc=$?
oomguard probe --pid "$holder" >"$TMP/probe-pid.txt" 2>&1

# field LABEL: the byte count of a "label:  1.0MiB (1048576 bytes)" line.
field() {
	sed -n "s/^$1: *.*(\([0-9]*\) bytes)\$/\1/p" "$TMP/probe.txt"
}
line() {
	sed -n "s/^$1 *//p" "$TMP/probe.txt"
}

check v2-probe-exit "probe exits 0" [ "$prc" = 0 ]
if [ "$(line cgroup:)" = "v2 (unified host)" ] && [ "$(line directory:)" = "$dir" ]; then
	pass v2-probe-cgroup "v2 (unified host), $dir"
else
	fail v2-probe-cgroup "cgroup '$(line cgroup:)' directory '$(line directory:)'" -- "$TMP/probe.txt"
fi
if [ "$(field limit)" = 67108864 ] && [ "$(field high)" = 50331648 ]; then
	pass v2-probe-max-high "memory.max 64M and memory.high 48M read to the byte"
else
	fail v2-probe-max-high "limit '$(field limit)' (want 67108864), high '$(field high)' (want 50331648)" -- "$TMP/probe.txt"
fi
usage=$(field usage)
lo=$cur1
hi=$cur2
[ "$cur2" -lt "$cur1" ] && lo=$cur2 && hi=$cur1
if [ -n "$usage" ] && [ "$usage" -ge $((lo - (1 << 20))) ] && [ "$usage" -le $((hi + (1 << 20))) ]; then
	pass v2-probe-usage "usage $usage bytes; memory.current $cur1 before, $cur2 after"
else
	fail v2-probe-usage "usage '$usage', memory.current $cur1 before and $cur2 after" -- "$TMP/probe.txt"
fi
if [ "$(line events:)" = "$events" ] && [ "$(ev "$dir" high)" -gt 0 ]; then
	pass v2-probe-events "events as in memory.events: $events"
else
	fail v2-probe-events "probe '$(line events:)', memory.events '$events'" -- "$TMP/probe.txt"
fi
some_total=$(sed -n 's/^psi some: .*total=\([0-9]*\)us$/\1/p' "$TMP/probe.txt")
if [ "$(line 'psi file:')" = "$dir/memory.pressure" ] && [ -n "$some_total" ] &&
	[ "$some_total" -gt 0 ] && grep -q '^psi full: ' "$TMP/probe.txt"; then
	pass v2-probe-psi "the cgroup's memory.pressure: some total ${some_total} us, and full"
else
	fail v2-probe-psi "psi file '$(line 'psi file:')', some total '$some_total'" -- "$TMP/probe.txt"
fi
if grep -q '^  v2 inotify memory.events: *available$' "$TMP/probe.txt" &&
	grep -q '^  psi trigger (some 150ms 1s): *available$' "$TMP/probe.txt" &&
	grep -q '^  v1 threshold eventfd: *not applicable$' "$TMP/probe.txt" &&
	grep -q '^  v1 oom eventfd: *not applicable$' "$TMP/probe.txt"; then
	pass v2-probe-notifications "inotify on memory.events and the psi trigger available; v1 mechanisms not applicable"
else
	fail v2-probe-notifications "want inotify and psi trigger available" -- "$TMP/probe.txt"
fi
h=$(ev "$dir" high)
if [ "$jrc" = 0 ] && grep -q '"limit_bytes": 67108864,' "$TMP/probe.json" &&
	grep -q '"high_bytes": 50331648,' "$TMP/probe.json" &&
	grep -q "\"events\": {\"low\": 0, \"high\": $h, " "$TMP/probe.json" &&
	grep -q '"v2_inotify_events": "available"' "$TMP/probe.json" &&
	grep -q '"psi_trigger": "available"' "$TMP/probe.json"; then
	pass v2-probe-json "--json: limit, high, events, inotify and psi trigger"
else
	fail v2-probe-json "exit $jrc; want limit_bytes, high_bytes, events high $h, both notifications available" -- "$TMP/probe.json"
fi
if grep -q "^directory: *$dir\$" "$TMP/probe-pid.txt"; then
	pass v2-probe-pid "--pid finds the holder's cgroup"
else
	fail v2-probe-pid "--pid $holder" -- "$TMP/probe-pid.txt"
fi
cg_destroy "$dir"

dir=$(cg_new probe-nolimit max) || exit 1
cg_spawn "$dir" "$TMP/hold8.out" hold 8
wait_line 100 "$TMP/hold8.out" '^ready$'
oomguard probe --cgroup "$dir" >"$TMP/probe.txt" 2>&1
usage=$(field usage)
if [ "$(line limit:)" = none ] && [ "$(line high:)" = none ] && [ -n "$usage" ] &&
	[ "$usage" -ge $((8 << 20)) ]; then
	pass v2-probe-nolimit "\"max\" shown as none for memory.max and memory.high; usage $((usage >> 20)) MiB"
else
	fail v2-probe-nolimit "limit '$(line limit:)', high '$(line high:)', usage '$usage'" -- "$TMP/probe.txt"
fi
# The watchdog reads the same cgroup: no limit, so no levels, said once at
# warn with what the user can do; no error.
guard=$(cg_new probe-guard max) || exit 1
cg_spawn "$guard" "$TMP/watch-nolimit.log" oomguard --cgroup "$dir"
og=$SPAWNED
wait_line 50 "$TMP/watch-nolimit.log" 'limit '
usleep 300000
kill -TERM "$og"
wait_pid 30 "$og"
if grep -q 'limit none: gc at off, restart at off, kill at off' "$TMP/watch-nolimit.log" &&
	[ "$(grep -c ' warn .*has no limit and every level is a percentage of it' "$TMP/watch-nolimit.log")" = 1 ] &&
	! grep -q ' error ' "$TMP/watch-nolimit.log"; then
	pass v2-probe-watch-nolimit "--cgroup on a cgroup without limits: 'limit none', every level off, one warning saying so"
else
	fail v2-probe-watch-nolimit "want 'limit none: gc at off, restart at off, kill at off', one no-limit warning, no error" -- "$TMP/watch-nolimit.log"
fi
cg_destroy "$guard"
cg_destroy "$dir"
