#!/bin/bash
# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../lib
# Faults around a reload, a sidecar (oomguard --cgroup DIR --pid P -c FILE)
# watching gcsim at a steady 62% of 256 MiB:
#  1. a storm of 1,000 SIGHUPs, the file changed before each: oomguard
#     lives on, and one more SIGHUP after the last change applies it;
#  2. the file deleted before a SIGHUP: the reload refused, said so, the
#     old levels kept (gc requests go on);
#  3. the file unreadable (a directory in its place): the same;
#  4. SIGSTOP for 5 s while the limit is lowered under it to put the usage
#     over gc.at, then SIGCONT: gc requests follow.
# Throughout: no descriptor leak, the limit as the operator set it, nothing
# outside the cgroup signalled, exit 0 on SIGTERM.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
f_setup
f_gcsim freload
conf=$tmp/og.ini
printf '[gc]\nat = 75%%\nrearm_below = 70%%\n' >"$conf"
# Debug: the repeated gc requests, counted below, are logged at debug.
"$OOMGUARD" --log-level debug --cgroup "$dir" --pid "$app" -c "$conf" 2>"$tmp/og.log" &
og=$!
t_wait_log "$tmp/og.log" 'gc at 192.0MiB' 10 || t_fail "start" "$(cat "$tmp/og.log")"
sleep 0.5
fds0=$(f_fds "$og")

t0=${EPOCHREALTIME/[.,]/}
for ((i = 0; i < 1000; i++)); do
	printf '[gc]\nat = %d%%\nrearm_below = 70%%\n' $((76 + i % 10)) >"$conf"
	kill -HUP "$og" || break
done
ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
printf '[gc]\nat = 50%%\nrearm_below = 40%%\n' >"$conf"
sleep 0.5
kill -HUP "$og"
reloads=$(grep -c 'configuration reloaded' "$tmp/og.log")
if t_wait_log "$tmp/og.log" 'gc at 128.0MiB' 5 &&
	t_wait_log "$tmp/og.log" "gc: .*SIGUSR1 to pid $app: sent" 5; then
	t_pass "1,000 SIGHUPs in $ms ms, the file changing: $reloads reloads, the last file applied"
else
	t_fail "SIGHUP storm" "alive: $(kill -0 "$og" 2>&1 && echo yes); $(tail -3 "$tmp/og.log")"
fi

# kept NAME: the reload was refused and gc requests go on at the old level
# (50%; the usage is at 62%).
kept() {
	local sent later
	if f_wait_after "$tmp/og.log" "$mark" "cannot reload the configuration: .*keeping the old one" 5; then
		sent=$(f_count_after "$tmp/og.log" "$mark" "gc: .*to pid $app: sent")
		sleep 2.5
		later=$(f_count_after "$tmp/og.log" "$mark" "gc: .*to pid $app: sent")
		((later > sent)) && kill -0 "$og" 2>/dev/null &&
			t_pass "$1: the reload refused and said so ($(tail -n +"$((mark + 1))" "$tmp/og.log" | grep -m1 'cannot reload' | cut -c26-)), the old level kept ($sent, then $later gc requests)" ||
			t_fail "$1" "gc requests $sent then $later: $(tail -3 "$tmp/og.log")"
	else
		t_fail "$1" "no refusal: $(tail -n +"$((mark + 1))" "$tmp/og.log" | tail -3)"
	fi
}
mark=$(f_mark "$tmp/og.log")
rm "$conf"
kill -HUP "$og"
kept "file deleted before a reload"
mark=$(f_mark "$tmp/og.log")
mkdir "$conf"
kill -HUP "$og"
kept "file unreadable (a directory) before a reload"
rmdir "$conf"

# 4. Stopped while the usage goes over a level.
mark=$(f_mark "$tmp/og.log")
printf '[gc]\nat = 75%%\nrearm_below = 70%%\n' >"$conf"
kill -HUP "$og"
f_wait_after "$tmp/og.log" "$mark" 'gc at 192.0MiB' 5 ||
	t_fail "reload before SIGSTOP" "$(tail -3 "$tmp/og.log")"
sleep 1
kill -STOP "$og"
echo 200M >"$dir/memory.limit_in_bytes"
mark=$(f_mark "$tmp/og.log")
sleep 5
kill -CONT "$og"
if f_wait_after "$tmp/og.log" "$mark" 'limit 200.0MiB: gc at 150.0MiB' 5 &&
	f_wait_after "$tmp/og.log" "$mark" "gc: .*SIGUSR1 to pid $app: sent" 5; then
	t_pass "stopped 5 s while the usage went over gc.at, then continued: the new limit seen, gc requests"
else
	t_fail "SIGSTOP" "$(tail -n +"$((mark + 1))" "$tmp/og.log" | tail -3)"
fi

f_stop
((fds1 == fds0)) && t_pass "descriptors: $fds0 before the faults, $fds1 after" ||
	t_fail "descriptors" "$fds0 before the faults, $fds1 after"
[[ ${limits%% *} == $((200 << 20)) ]] && t_pass "the limit as the operator set it" ||
	t_fail "limit" "$limits"
((rc == 0)) && t_pass "SIGTERM: exit 0" || t_fail "exit" "rc $rc"
f_sentinel_check "reload faults"
cg_destroy "$dir"
t_summary
