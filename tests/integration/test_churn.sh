#!/bin/bash
# shellcheck source-path=SCRIPTDIR/../lib
# A fast collector kept alive by gc requests paced by their effect, on real
# v1 cgroups, with oomguard's default settings: churn (tests/workload/
# churn.c) replaces its heap at CHURN_RATE MB/s (200), keeps 60% of a
# 128 MiB limit live and frees its garbage at once on SIGUSR1. It runs
# CHURN_SECS seconds (20) under oomguard as its entrypoint; then oomguard
# gets SIGTERM, passes it on, and the app exits with its own code (7).
#
#  1. the event path: the OOM killer off, v1 threshold eventfds;
#  2. polling only: the cgroupfs read-only in a private mount namespace
#     (as inside a container), the OOM killer on (as in Kubernetes).
#
# Each checks: no SIGKILL and no restart signal from oomguard, no kernel
# OOM kill, no freeze, the app's own exit code at the end, gc requests
# served, and a log that stays readable (at most 2 gc info lines a second:
# the first request of an episode and the summaries).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
cg_test_setup
cg_need_v1 "churn on cgroup v1" "needs root and a v1 memory cgroup (v2 runs in the VM suite)"
secs=${CHURN_SECS:-20}
rate=${CHURN_RATE:-200}
limit=$((128 << 20))
mnt=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5}' /proc/self/mountinfo)

# run NAME OOM_DISABLE(0|1) RO(0|1): churn under oomguard for $secs seconds.
run() {
	local name=$1 oom=$2 ro=$3 dir ogpid rc frozen=0 kills served why=()
	local cmd=("$OOMGUARD" -c /dev/null -- "$WORKLOAD_DIR/churn" --limit 128M --rate "$rate"
		--live 60 --exit-code 7)
	dir=$(cg_create "og-churn-$name-$$" $limit "$([[ $oom == 1 ]] && echo oom_disable)") || return
	if [[ $ro == 1 ]]; then
		cg_spawn "$dir" unshare -m sh -c 'mount -o bind,ro "$0" "$0" && exec "$@"' "$mnt" \
			"${cmd[@]}" >"$tmp/$name.out" 2>"$tmp/$name.log"
	else
		cg_spawn "$dir" "${cmd[@]}" >"$tmp/$name.out" 2>"$tmp/$name.log"
	fi
	ogpid=$CG_PID
	for ((i = 0; i < secs * 20; i++)); do
		[[ $(cg_under_oom "$dir") == 1 ]] && frozen=1
		kill -0 "$ogpid" 2>/dev/null || break
		sleep 0.05
	done
	kill -TERM "$ogpid" 2>/dev/null
	t_timeout 15 tail --pid="$ogpid" -f /dev/null
	wait "$ogpid"
	rc=$?
	kills=$(awk '$1 == "oom_kill" { print $2 }' "$dir/memory.oom_control")
	served=$(sed -n 's/^churn: exit 7 (SIGTERM): usr1 [0-9]* served \([0-9]*\) .*/\1/p' "$tmp/$name.log")
	[[ $rc == 7 ]] || why+=("oomguard exited $rc, not the app's 7")
	grep -q '^kill: \| kill: ' "$tmp/$name.log" && why+=("oomguard sent SIGKILL")
	grep -q ' restart: ' "$tmp/$name.log" && why+=("oomguard sent the restart signal")
	grep -q 'restarting the app' "$tmp/$name.log" && why+=("the app was restarted")
	[[ ${kills:-0} == 0 ]] || why+=("the kernel OOM-killed $kills")
	((frozen == 0)) || why+=("the cgroup froze")
	((${served:-0} > 0)) || why+=("no gc request served")
	if ((${#why[@]} == 0)); then
		t_pass "$name: ${secs}s at ${rate} MB/s: exit 7, no SIGKILL, no OOM kill, $served gc requests served, peak $(($(<"$dir/memory.max_usage_in_bytes") >> 20)) of 128 MiB"
	else
		t_fail "$name" "$(IFS=';'; echo "${why[*]}"): $(grep -v ' debug ' "$tmp/$name.log" | tail -5)"
	fi
	lines=$(grep -c ' info  gc' "$tmp/$name.log")
	if ((lines <= 2 * secs + 2)); then
		t_pass "$name: $lines gc info lines in ${secs}s"
	else
		t_fail "$name: readable log" "$lines gc info lines in ${secs}s: $(grep ' info  gc' "$tmp/$name.log" | head -5)"
	fi
	cg_destroy "$dir"
}

run event 1 0
run polling 0 1
t_summary
