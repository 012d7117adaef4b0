#!/bin/bash
# shellcheck source-path=SCRIPTDIR/../lib
# Who gets the signals and what happens after: [action] target = cgroup and
# group, --dry-run, and [supervise] restart = never and always. Real v1
# cgroups; gcsim holding a steady 80% of a 256 MiB limit (over gc at 75%).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
cg_test_setup
cg_need_v1 "targets on cgroup v1" "needs root and a v1 memory cgroup"
limit=$((256 << 20))
gcsim=$WORKLOAD_DIR/gcsim

# target = cgroup: two gcsims (40% each) and the sh that started them;
# both gcsims get SIGUSR1, sh (no handler) is skipped, oomguard is not signalled.
dir=$(cg_create "og-tg-cgroup-$$" $limit oom_disable)
cg_spawn "$dir" env OOMGUARD_ACTION_TARGET=cgroup "$OOMGUARD" --kill-at none --restart-at none -- \
	sh -c "$gcsim --limit $limit --live 40 --garbage-ratio 1.0 & $gcsim --limit $limit --live 40 --garbage-ratio 1.0 & wait" \
	>/dev/null 2>"$tmp/cgroup.log"
ogpid=$CG_PID
t_wait_log "$tmp/cgroup.log" 'gc: .*sent to 2, 1 skipped' 15 &&
	t_pass "target cgroup: both gcsims signalled, sh skipped (no handler)" ||
	t_fail "target cgroup" "$(cat "$tmp/cgroup.log")"
kill -TERM "$ogpid"
wait "$ogpid"
cg_destroy "$dir"

# target = group: a gcsim started with setsid is outside the app's process
# group; it handles SIGUSR1 too, but must not get it.
dir=$(cg_create "og-tg-group-$$" $limit oom_disable)
cg_spawn "$dir" env OOMGUARD_ACTION_TARGET=group "$OOMGUARD" --kill-at none --restart-at none -- \
	sh -c "setsid $gcsim --limit $limit --live 40 --garbage-ratio 1.0 >$tmp/other.out & $gcsim --limit $limit --live 40 --garbage-ratio 1.0 >$tmp/ingroup.out & wait" \
	>/dev/null 2>"$tmp/group.log"
ogpid=$CG_PID
t_wait_log "$tmp/group.log" 'gc: .*: sent to 1, 2 skipped' 15
sleep 2.5
kill -TERM "$ogpid"
wait "$ogpid"
other=$(grep -o 'usr1=[0-9]*' "$tmp/other.out" | tail -1)
ingroup=$(grep -o 'usr1=[0-9]*' "$tmp/ingroup.out" | tail -1)
[[ $other == usr1=0 && ${ingroup#usr1=} -gt 0 ]] &&
	t_pass "target group: the app's group served gc requests ($ingroup), the other none ($other)" ||
	t_fail "target group" "other $other in group $ingroup: $(cat "$tmp/group.log")"
cg_destroy "$dir"

# --dry-run: decisions logged, nothing sent (gcsim's usr1 counter stays 0).
dir=$(cg_create "og-tg-dry-$$" $limit oom_disable)
cg_spawn "$dir" "$OOMGUARD" --dry-run --kill-at none --restart-at none -- \
	"$gcsim" --live 80 --garbage-ratio 1.0 >"$tmp/dry.out" 2>"$tmp/dry.log"
ogpid=$CG_PID
t_wait_log "$tmp/dry.log" 'gc: .*dry run, not sent' 15
sleep 2.5
kill -TERM "$ogpid"
wait "$ogpid"
n=$(grep -c 'dry run, not sent' "$tmp/dry.log")
served=$(grep -o 'usr1=[0-9]*' "$tmp/dry.out" | tail -1)
[[ $n -ge 2 && $served == usr1=0 ]] && t_pass "dry run: $n decisions logged, none sent ($served)" ||
	t_fail "dry run" "n=$n $served: $(cat "$tmp/dry.log")"
cg_destroy "$dir"

# restart = never: the app ended by the restart level is not restarted;
# oomguard exits with its code.
dir=$(cg_create "og-tg-never-$$" $limit oom_disable)
OOMGUARD_SUPERVISE_RESTART=never cg_spawn "$dir" "$OOMGUARD" --kill-at none -- \
	"$gcsim" --live 92 --garbage-ratio 1.0 --usr1 catch --exit-code 9 >/dev/null 2>"$tmp/never.log"
ogpid=$CG_PID
t_timeout 30 tail --pid="$ogpid" -f /dev/null
wait "$ogpid"
rc=$?
[[ $rc == 9 ]] && grep -q 'restart: .*SIGTERM' "$tmp/never.log" && ! grep -q 'restarting the app' "$tmp/never.log" &&
	t_pass "restart never: exit with the app's 9" || t_fail "restart never" "exit $rc: $(cat "$tmp/never.log")"
cg_destroy "$dir"

# restart = always: an app that exits on its own is restarted too.
OOMGUARD_SUPERVISE_RESTART=always OOMGUARD_SUPERVISE_RESTART_DELAY=100ms \
	"$OOMGUARD" -- sh -c 'exit 3' 2>"$tmp/always.log" &
ogpid=$!
t_wait_log "$tmp/always.log" 'restarting the app in 200ms (it ended on its own)' 10
kill -TERM "$ogpid"
wait "$ogpid"
rc=$?
[[ $(grep -c 'exited with code 3' "$tmp/always.log") -ge 2 && $rc == 3 ]] &&
	t_pass "restart always: restarted after exit 3, backing off; SIGTERM ends with 3" ||
	t_fail "restart always" "exit $rc: $(cat "$tmp/always.log")"
t_summary
