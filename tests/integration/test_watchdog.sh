#!/bin/bash
# shellcheck source-path=SCRIPTDIR/../lib
# The watchdog on real v1 cgroups with the OOM killer disabled:
#  1. gc requests keep gcsim from freezing (and without oomguard it freezes)
#  2. a workload that ignores gc requests gets the restart signal, one that
#     also ignores SIGTERM is killed a grace period later; both restarted
#  4. require_handler: no SIGUSR1 to an app that does not catch it
#  5. a read-only cgroupfs: polling alone still prevents the freeze
#  6. the watched cgroup removed: a clear message and a clean exit
# WATCHDOG_SECS (default 30) sets how long test 1 runs.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
cg_test_setup
cg_need_v1 "watchdog on cgroup v1" "needs root and a v1 memory cgroup (v2 runs in the VM suite)"
secs=${WATCHDOG_SECS:-30}
limit=$((256 << 20))
gcsim=$WORKLOAD_DIR/gcsim

# watch_frozen DIR PID SECS: poll under_oom until PID ends; print "frozen"
# if it was ever 1, "overran" (and kill PID) if it outlived SECS + 20.
watch_frozen() {
	local deadline=$((SECONDS + $3 + 20))
	while kill -0 "$2" 2>/dev/null; do
		if [[ $(cg_under_oom "$1") == 1 ]]; then
			echo frozen
			return
		fi
		if ((SECONDS > deadline)); then
			kill -9 "$2"
			echo overran
			return
		fi
		sleep 0.05
	done
	echo fine
}

# 1. The same workload with and without oomguard.
dir=$(cg_create "og-wd-alone-$$" $limit oom_disable)
cg_spawn "$dir" "$gcsim" --rate 64 --duration "$secs"
if cg_wait_frozen "$dir" 20; then
	t_pass "without oomguard gcsim freezes (under_oom 1 after ${CG_WAITED_MSEC} ms)"
else
	t_fail "control run" "gcsim did not freeze without oomguard"
fi
cg_destroy "$dir"

dir=$(cg_create "og-wd-gc-$$" $limit oom_disable)
cg_spawn "$dir" "$OOMGUARD" --gc-at 75% -- "$gcsim" --rate 64 --duration "$secs" \
	>"$tmp/gc.out" 2>"$tmp/gc.log"
ogpid=$CG_PID
state=$(watch_frozen "$dir" "$ogpid" "$secs")
[[ $state == fine ]] || kill -9 "$ogpid"
wait "$ogpid"
rc=$?
peak=$(<"$dir/memory.max_usage_in_bytes")
gcs=$(grep -c 'gc: .* SIGUSR1 to pid [0-9]*: sent' "$tmp/gc.log")
if [[ $state == fine && $rc == 0 && $peak -lt $limit && $gcs -gt 0 ]]; then
	t_pass "with oomguard: ${secs}s without a freeze, peak $((peak >> 20)) MiB of 256, $gcs gc requests"
else
	t_fail "gc keeps it alive" "state $state exit $rc peak $peak gcs $gcs: $(tail -5 "$tmp/gc.log")"
fi
grep -q 'gc: workingset .* (7[5-9]\.[0-9]*%\|8[0-9]\.[0-9]*%), SIGUSR1 to pid' "$tmp/gc.log" &&
	t_pass "action lines carry level, metric, limit, percentage, signal, pid, outcome" ||
	t_fail "action line" "$(grep -m1 'gc:' "$tmp/gc.log")"
cg_destroy "$dir"

# 2. Escalation. gcsim holding 92% live (above restart, below kill) with a
# SIGUSR1 handler that does nothing: gc, then SIGTERM; it exits 0 and
# oomguard restarts it.
dir=$(cg_create "og-wd-restart-$$" $limit oom_disable)
cg_spawn "$dir" "$OOMGUARD" --kill-at none -c /dev/null \
	-- "$gcsim" --live 92 --garbage-ratio 1.0 --usr1 catch --exit-code 0 \
	>/dev/null 2>"$tmp/restart.log"
ogpid=$CG_PID
for _ in $(seq 200); do
	grep -q 'restarting the app' "$tmp/restart.log" && break
	sleep 0.1
done
kill -TERM "$ogpid" 2>/dev/null
wait "$ogpid"
if grep -q 'gc: .*SIGUSR1 to pid' "$tmp/restart.log" &&
	grep -q 'restart: .*SIGTERM to pid [0-9]*: sent' "$tmp/restart.log" &&
	grep -q 'exited with code 0' "$tmp/restart.log" &&
	grep -q 'restarting the app in 1s (restart level)' "$tmp/restart.log"; then
	t_pass "ignored gc: SIGTERM at restart.at, graceful exit, restarted"
else
	t_fail "restart escalation" "$(cat "$tmp/restart.log")"
fi
cg_destroy "$dir"

dir=$(cg_create "og-wd-kill-$$" $limit oom_disable)
OOMGUARD_SUPERVISE_RESTART_DELAY=200ms cg_spawn "$dir" "$OOMGUARD" --kill-at none --grace 1s \
	-- "$gcsim" --live 92 --garbage-ratio 1.0 --usr1 catch --ignore-term \
	>/dev/null 2>"$tmp/kill.log"
ogpid=$CG_PID
for _ in $(seq 300); do
	(($(grep -c 'restarting the app' "$tmp/kill.log") >= 2)) && break
	sleep 0.1
done
kill -TERM "$ogpid" 2>/dev/null
sleep 1.5
kill -KILL "$ogpid" 2>/dev/null
wait "$ogpid" 2>/dev/null
delays=$(grep -o 'restarting the app in [0-9a-z]*' "$tmp/kill.log" | awk '{print $NF}' | head -2 | tr '\n' ' ')
if grep -q 'kill: .*SIGKILL to pid [0-9]*: sent' "$tmp/kill.log" &&
	grep -q 'killed by signal 9' "$tmp/kill.log" && [[ $delays == "200ms 400ms " ]]; then
	t_pass "ignored SIGTERM: SIGKILL after grace; restarts back off ($delays)"
else
	t_fail "kill after grace" "delays '$delays': $(cat "$tmp/kill.log")"
fi
# the SIGKILL came a grace period after the SIGTERM
t_term=$(grep -m1 'restart: .*SIGTERM' "$tmp/kill.log" | cut -c12-23)
t_kill=$(grep -m1 'kill: .*SIGKILL' "$tmp/kill.log" | cut -c12-23)
ms() { IFS=:. read -r h m s f <<<"$1"; echo $(((10#$h * 3600 + 10#$m * 60 + 10#$s) * 1000 + 10#$f)); }
gap=$(($(ms "$t_kill") - $(ms "$t_term")))
((gap >= 1000 && gap < 5000)) && t_pass "SIGKILL ${gap} ms after SIGTERM (grace 1s)" ||
	t_fail "grace timing" "gap ${gap} ms"
cg_destroy "$dir"

# 4. require_handler: SIGUSR1 would kill this gcsim (default action); it
# must never be sent. The restart level ends it instead.
dir=$(cg_create "og-wd-handler-$$" $limit oom_disable)
OOMGUARD_RESTART_STARTUP=1s cg_spawn "$dir" "$OOMGUARD" --kill-at none --grace 1s \
	-- "$gcsim" --live 80 --garbage-ratio 1.0 --usr1 default --exit-code 5 \
	>/dev/null 2>"$tmp/handler.log"
ogpid=$CG_PID
for _ in $(seq 100); do
	grep -q 'restarting the app' "$tmp/handler.log" && break
	sleep 0.1
done
kill -TERM "$ogpid" 2>/dev/null
wait "$ogpid"
if grep -q 'does not handle SIGUSR1' "$tmp/handler.log" &&
	! grep -q 'SIGUSR1 to pid' "$tmp/handler.log" &&
	! grep -q 'killed by signal 10' "$tmp/handler.log"; then
	t_pass "require_handler: no SIGUSR1 to an app without a handler"
else
	t_fail "require_handler" "$(cat "$tmp/handler.log")"
fi
cg_destroy "$dir"

# 5. Read-only cgroupfs, as inside a container: notifications cannot be
# registered; polling alone must prevent the freeze.
dir=$(cg_create "og-wd-ro-$$" $limit oom_disable)
mnt=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5}' /proc/self/mountinfo)
ro_secs=$((secs < 10 ? secs : 10))
cg_spawn "$dir" unshare -m sh -c "mount -o bind,ro '$mnt' '$mnt' && exec '$OOMGUARD' --gc-at 75% -- '$gcsim' --rate 64 --duration $ro_secs" \
	>/dev/null 2>"$tmp/ro.log"
ogpid=$CG_PID
state=$(watch_frozen "$dir" "$ogpid" "$ro_secs")
[[ $state == fine ]] || kill -9 "$ogpid"
wait "$ogpid"
rc=$?
if [[ $state == fine && $rc == 0 ]] && grep -q 'cannot register v1 threshold notifications.*polling carries the load' "$tmp/ro.log" &&
	grep -q 'SIGUSR1 to pid [0-9]*: sent' "$tmp/ro.log"; then
	t_pass "read-only cgroupfs: polling prevents the freeze for ${ro_secs}s"
else
	t_fail "read-only cgroupfs" "state $state exit $rc: $(cat "$tmp/ro.log")"
fi
cg_destroy "$dir"

# 6. A watched cgroup removed under oomguard.
dir=$(cg_create "og-wd-gone-$$" $limit)
"$OOMGUARD" --cgroup "$dir" 2>"$tmp/gone.log" &
ogpid=$!
sleep 0.5
rmdir "$dir"
for _ in $(seq 50); do kill -0 "$ogpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$ogpid" 2>/dev/null; then
	kill -9 "$ogpid"
	t_fail "cgroup removed" "oomguard still running: $(cat "$tmp/gone.log")"
else
	wait "$ogpid"
	rc=$?
	[[ $rc == 0 ]] && grep -q 'the watched cgroup was removed.*exiting' "$tmp/gone.log" &&
		t_pass "cgroup removed: message and exit 0" || t_fail "cgroup removed" "exit $rc: $(cat "$tmp/gone.log")"
fi
t_summary
