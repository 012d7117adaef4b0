#!/bin/bash
# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../lib
# Faults of the app, oomguard its entrypoint ([supervise] restart = never,
# so that its exit code is the app's end) in a 256M v1 cgroup with the OOM
# killer disabled; gcsim grows at 24 MiB/s past the restart level (70%):
#  1. an app that ignores every signal oomguard sends (SIGUSR1 ignored,
#     so no gc request; SIGTERM ignored): SIGKILL a grace (1 s) after
#     SIGTERM, exit 137;
#  2. an app that exits during its grace (SIGTERM handled, exit 42): no
#     SIGKILL, exit 42, the app's;
#  3. an app that forks 2,000 children, [action] target = cgroup: each of
#     the 2,001 processes gets the restart signal, exit 0 (gcsim's).
# Each: the limit untouched, nothing outside the cgroup signalled.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
f_setup
gcsim=$WORKLOAD_DIR/gcsim
# The restart level acts from the start (no start-up hold), or the app
# reaches the limit first and the rescue acts instead.
export OOMGUARD_SUPERVISE_RESTART=never OOMGUARD_GC_REARM_BELOW=40% OOMGUARD_RESTART_STARTUP=0

# run NAME TIMEOUT APP...: oomguard running APP in a new cgroup; sets rc
# (oomguard's exit code), limits (after) and limits0 (before), procs (the
# processes left in the cgroup after oomguard's exit).
run() {
	local name=$1 secs=$2 dir
	shift 2
	dir=$(cg_create "og-fapp-$name-$$" "${LIMIT:-256M}" oom_disable)
	limits0=$(f_limits "$dir")
	cg_spawn "$dir" "$OOMGUARD" --gc-at 50% --restart-at 70% --grace 1s --kill-at none \
		-- "$@" >"$tmp/$name.out" 2>"$tmp/$name.log"
	local og=$CG_PID
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$og" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$og" 2>/dev/null && echo "oomguard overran ${secs} s" >>"$tmp/$name.log"
	wait "$og"
	rc=$?
	limits=$(f_limits "$dir")
	procs=$(wc -l <"$dir/cgroup.procs")
	cg_destroy "$dir"
}

run ignore 30 "$gcsim" --usr1 ignore --ignore-term --live 20 --garbage-ratio 5 --rate 24
if ((rc == 137)) && ! grep -q 'gc: .*SIGUSR1.*: sent' "$tmp/ignore.log" &&
	grep -q 'restart: .*SIGTERM to pid [0-9]*: sent' "$tmp/ignore.log" &&
	grep -qE 'SIGKILL' "$tmp/ignore.log" && [[ $limits == "$limits0" ]]; then
	t_pass "an app that ignores every signal: no gc request, SIGTERM, SIGKILL after the grace, exit 137"
else
	t_fail "app ignoring signals" "exit $rc (want 137), limits $limits (were $limits0): $(tail -4 "$tmp/ignore.log")"
fi

run grace 30 "$gcsim" --usr1 ignore --exit-code 42 --live 20 --garbage-ratio 5 --rate 24
if ((rc == 42)) && grep -q 'restart: .*SIGTERM to pid [0-9]*: sent' "$tmp/grace.log" &&
	! grep -q 'SIGKILL' "$tmp/grace.log" && [[ $limits == "$limits0" ]]; then
	t_pass "an app that exits during its grace: no SIGKILL, exit 42, the app's"
else
	t_fail "app exiting in its grace" "exit $rc (want 42), limits $limits (were $limits0): $(tail -4 "$tmp/grace.log")"
fi

cat >"$tmp/forker.sh" <<EOS
for i in \$(seq 2000); do sleep 1000 & done
exec "$gcsim" --usr1 ignore --live 20 --garbage-ratio 5 --rate 24
EOS
# 2,000 sleeps hold some 300 MiB: a limit of 1G.
LIMIT=1G OOMGUARD_ACTION_TARGET=cgroup run fork 60 bash "$tmp/forker.sh"
if ((rc == 0 && procs == 0)) && grep -q 'restart: ' "$tmp/fork.log" &&
	[[ $limits == "$limits0" ]]; then
	t_pass "2,000 children, target = cgroup: the restart signal ends all 2,001 processes, exit 0 ($(grep -m1 'restart: ' "$tmp/fork.log" | cut -c26-))"
else
	t_fail "2,000 children" "exit $rc (want 0), $procs processes left (want 0), limits $limits (were $limits0): $(tail -4 "$tmp/fork.log")"
fi
f_sentinel_check "app faults"
t_summary
