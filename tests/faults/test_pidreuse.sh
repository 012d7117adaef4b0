#!/bin/bash
# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../lib
# The target's pid reused, in the host's pid namespace: a sidecar
# (oomguard --cgroup DIR --pid P, gc at 50%, restart at 70%) whose target
# P ends; a process outside the cgroup then gets pid P (the kernel's
# ns_last_pid set to P - 1 just before the fork) and catches every signal
# oomguard could send; the cgroup is pushed to 80% by a process that
# ignores gc and restart requests. The newcomer on pid P gets nothing and
# lives; oomguard said its target ended, sends nothing to P, and exits 0
# on SIGTERM, without a descriptor leak; the limit as it was; nothing else
# outside the cgroup signalled.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
f_setup
spawner=$WORKLOAD_DIR/spawner
dir=$(cg_create "og-fpid-$$" 256M)
limits0=$(f_limits "$dir")
cg_spawn "$dir" "$spawner" trap >"$tmp/target.out"
P=$CG_PID
t_wait_log "$tmp/target.out" '^ready' 5
OOMGUARD_RESTART_STARTUP=0 "$OOMGUARD" --cgroup "$dir" --pid "$P" --gc-at 50% --restart-at 70% \
	--grace 60s 2>"$tmp/og.log" &
og=$!
t_wait_log "$tmp/og.log" 'watching ' 10 || t_fail "start" "$(cat "$tmp/og.log")"
sleep 0.5
fds0=$(f_fds "$og")

{
	kill -KILL "$P"
	wait "$P"
} 2>/dev/null
t_wait_log "$tmp/og.log" "pid $P\b.*\(ended\|exited\|gone\)" 5
ended=$?
# The newcomer, outside the cgroup, on pid P. Other processes of the host
# may fork between the write and ours: try again.
o=
for ((i = 0; i < 50; i++)); do
	echo $((P - 1)) >/proc/sys/kernel/ns_last_pid
	"$spawner" trap >"$tmp/newcomer.out" &
	o=$!
	[[ $o == "$P" ]] && break
	{
		kill -KILL "$o"
		wait "$o"
	} 2>/dev/null
done
if [[ $o != "$P" ]]; then
	t_skip "pid reused" "no process could be put on pid $P in 50 tries (the host forks too fast)"
	kill -TERM "$og"
	wait "$og"
	t_summary
	exit
fi
t_wait_log "$tmp/newcomer.out" '^ready' 5
mib=$(((256 * 80 / 100) - ($(cg_usage "$dir") >> 20)))
cg_spawn "$dir" sh -c 'trap "" USR1 TERM; exec "$0" "$1"' "$WORKLOAD_DIR/hold" "$mib" >"$tmp/hold.out"
t_wait_log "$tmp/hold.out" '^ready' 10
usage=$(cg_usage "$dir")
# Long enough for a gc request, its cooldown (1 s) and the restart level.
sleep 3.5

f_stop
why=()
((ended == 0)) || why+=("oomguard did not say its target (pid $P) ended")
((usage >= (256 << 20) * 75 / 100)) || why+=("the push reached only $((usage >> 20)) MiB")
grep -qE "to pid $P\b" "$tmp/og.log" && why+=("oomguard signalled pid $P: $(grep -m2 -E "to pid $P\b" "$tmp/og.log" | cut -c26-)")
grep -q '^SIG' "$tmp/newcomer.out" && why+=("the newcomer got $(grep '^SIG' "$tmp/newcomer.out" | tr '\n' ' ')")
kill -0 "$o" 2>/dev/null || why+=("the newcomer is gone")
if ((${#why[@]} == 0)); then
	t_pass "the target's pid $P reused outside the cgroup, the cgroup at $((usage * 100 >> 28))%: the newcomer got nothing ($(grep -m1 -E "pid $P\b" "$tmp/og.log" | cut -c26-))"
else
	t_fail "pid reused" "$(printf '%s; ' "${why[@]}")"
fi
((rc == 0)) && t_pass "SIGTERM: exit 0" || t_fail "exit" "rc $rc"
# The target's pidfd and /proc files close with its end: no more after.
((fds1 <= fds0)) && t_pass "descriptors: $fds0 with the target, $fds1 after" ||
	t_fail "descriptors" "$fds0 with the target, $fds1 after"
[[ $limits == "$limits0" ]] && t_pass "the limit as it was" || t_fail "limit" "$limits, was $limits0"
{
	kill -KILL "$o"
	wait "$o"
} 2>/dev/null
f_sentinel_check "pid reused"
cg_destroy "$dir"
t_summary
