#!/bin/bash
# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../lib
# Faults of the limit, under a sidecar (oomguard --cgroup DIR --pid P) that
# watches gcsim holding a steady 159 MiB (62% of 256 MiB; gc at 75%):
#  1. the limit raised to 512M: the levels follow, no gc request;
#  2. the limit removed (-1): "limit none", no action, no error, the limit
#     left removed;
#  3. the limit lowered under the usage: the kernel refuses the write
#     (EBUSY, nothing to reclaim), oomguard carries on;
#  4. the limit lowered to 200M, over the usage but over gc.at: gc
#     requests to the app.
# Throughout: the limit as the operator left it (oomguard never writes it
# here), no descriptor leak, nothing outside the cgroup signalled,
# exit 0 on SIGTERM.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
f_setup
f_gcsim flimit
"$OOMGUARD" --cgroup "$dir" --pid "$app" --gc-at 75% 2>"$tmp/og.log" &
og=$!
t_wait_log "$tmp/og.log" 'limit 256.0MiB: gc at 192.0MiB' 10 || t_fail "start" "$(cat "$tmp/og.log")"
sleep 0.5
fds0=$(f_fds "$og")

# The memsw limit (equal to the limit here) bounds the limit: it goes
# first, as an operator's would.
echo 512M >"$dir/memory.memsw.limit_in_bytes"
echo 512M >"$dir/memory.limit_in_bytes"
t_wait_log "$tmp/og.log" 'limit 512.0MiB: gc at 384.0MiB' 5 &&
	! grep -q 'gc: ' "$tmp/og.log" &&
	t_pass "limit raised to 512M: the levels follow, no gc request" ||
	t_fail "limit raised" "$(tail -3 "$tmp/og.log")"

# A sidecar whose reserve raises the limit ([reserve] mode = limit) once
# wrote a limit back over the operator's removal.
echo -1 >"$dir/memory.memsw.limit_in_bytes"
echo -1 >"$dir/memory.limit_in_bytes"
t_wait_log "$tmp/og.log" 'limit none' 5 && kill -0 "$og" 2>/dev/null &&
	! grep -qE 'gc: |error|put back' "$tmp/og.log" &&
	[[ $(<"$dir/memory.limit_in_bytes") -gt $((1 << 40)) ]] &&
	t_pass "limit removed: 'limit none', no action, no error, the limit left removed" ||
	t_fail "limit removed" "limit $(<"$dir/memory.limit_in_bytes"): $(tail -3 "$tmp/og.log")"
memsw0=$(<"$dir/memory.memsw.limit_in_bytes")

if echo 128M 2>"$tmp/under.err" >"$dir/memory.limit_in_bytes"; then
	t_skip "limit under the usage" "the kernel took 128M under a usage of $(cg_usage "$dir")"
else
	sleep 1
	kill -0 "$og" 2>/dev/null && ! grep -qE 'gc: |error' "$tmp/og.log" &&
		t_pass "limit under the usage: the kernel refuses it ($(tr -d '\n' <"$tmp/under.err" | sed 's/.*: //')), oomguard carries on" ||
		t_fail "limit under the usage" "$(tail -3 "$tmp/og.log")"
fi

echo 200M >"$dir/memory.limit_in_bytes"
t_wait_log "$tmp/og.log" 'limit 200.0MiB: gc at 150.0MiB' 5 &&
	t_wait_log "$tmp/og.log" "gc: .*SIGUSR1 to pid $app: sent" 5 &&
	t_pass "limit lowered to 200M, over the usage: gc requests to the app" ||
	t_fail "limit lowered" "$(tail -3 "$tmp/og.log")"

f_stop
# The memsw limit is read but not held to what the operator wrote last:
# a sidecar whose reserve raises the limit for a rescue ([reserve] mode =
# limit) keeps the memsw limit it saw when it took the reserve.
[[ ${limits%% *} == $((200 << 20)) ]] &&
	t_pass "the limit as the operator left it (${limits%% *}; memsw ${limits#* }, set to $memsw0)" ||
	t_fail "limit" "${limits%% *}, want $((200 << 20))"
((fds1 == fds0)) && t_pass "descriptors: $fds0 before the faults, $fds1 after" ||
	t_fail "descriptors" "$fds0 before the faults, $fds1 after: $(ls -l /proc/$og/fd 2>/dev/null)"
((rc == 0)) && t_pass "SIGTERM: exit 0" || t_fail "exit" "rc $rc"
f_sentinel_check "limits"
cg_destroy "$dir"
t_summary
