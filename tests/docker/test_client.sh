#!/bin/bash
# The Engine client (src/docker.c, through tests/docker/dkclient) against
# the real dockerd:
#  1. a labelled container running before the client: listed, inspected
#     (its host pid, its limit, --oom-kill-disable, its oomguard.* labels)
#  2. a container started after the client: seen from the events stream
#  3. docker update --memory: seen again with the new limit within 2 s
#  4. docker stop and docker rm: gone twice (die, destroy)
#  5. dockerd stopped and started again (only when this run started it):
#     the loss reported once, the engine found again, and the container
#     that dockerd restarts (--restart always) seen again
# Run by run.sh (DKCLIENT set by make check-docker), or alone as root under
# the test lock: flock /tmp/oomguard-test.lock make build/tests/dkclient &&
#   DKCLIENT=build/tests/dkclient bash tests/docker/test_client.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/lib.sh"
standalone=
if [[ -z ${DK_RUN:-} ]]; then
	standalone=1
	dk_harness client c
	dk_daemon_up "$DK_LOGDIR" || exit 1
	dk_base_images >/dev/null || exit 1
fi
trap 'exit 143' TERM
client_pid=
out=$(mktemp /tmp/oomguard-dkclient.XXXXXX)
stop_client() {
	[[ -n $client_pid ]] && kill "$client_pid" 2>/dev/null && wait "$client_pid" 2>/dev/null
	client_pid=
}
trap 'stop_client; rm -f "$out"; if [[ -n $standalone ]]; then dk_cleanup; else dk_rm_all; fi' EXIT
DKCLIENT=${DKCLIENT:?DKCLIENT: the path of build/tests/dkclient}

# wait_line REGEX SECS [COUNT]: COUNT (1) lines of the client match REGEX
wait_line() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		(($(grep -cE "$1" "$out") >= ${3:-1})) && return 0
		sleep 0.1
	done
	return 1
}

a=$(dk_run a --memory 64m --oom-kill-disable --restart always \
	--label oomguard.enable=true --label oomguard.gc.at=80% "$DK_BUSYBOX" sleep 600)
"$DKCLIENT" /var/run/docker.sock >"$out" 2>&1 &
client_pid=$!

# 1. Listed and inspected.
pid=$(dk 10 inspect -f '{{.State.Pid}}' "$a")
if wait_line "^seen $a og-$DK_RUN-a pid=$pid memory=67108864 oom_kill_disable=1 labels=2$" 10; then
	t_pass "client: a running labelled container listed and inspected (pid $pid, 64 MiB, oom-kill-disable, 2 labels)"
else
	t_fail "client: list" "$(cat "$out")"
fi
grep -qx up "$out" && ! grep -q '^down' "$out" && t_pass "client: engine up, no loss reported" ||
	t_fail "client: engine" "$(cat "$out")"

# 2. Started after the client.
b=$(dk_run b "$DK_BUSYBOX" sleep 600)
if wait_line "^seen $b og-$DK_RUN-b pid=[1-9][0-9]* memory=0 oom_kill_disable=0 labels=0$" 10; then
	t_pass "client: a container started later seen from the events stream"
else
	t_fail "client: start event" "$(cat "$out")"
fi

# 3. docker update --memory.
dk 30 update --memory 96m --memory-swap 96m "$a" >/dev/null
if wait_line "^seen $a .* memory=100663296 " 2; then
	t_pass "client: docker update --memory 96m seen within 2 s"
else
	t_fail "client: update event" "$(cat "$out")"
fi

# 4. Stopped, then removed.
dk 30 stop -t 1 "$b" >/dev/null
dk 30 rm "$b" >/dev/null
if wait_line "^gone $b og-$DK_RUN-b$" 10 2; then
	t_pass "client: docker stop and rm reported gone (die, destroy)"
else
	t_fail "client: die/destroy" "$(cat "$out")"
fi

# 5. The engine restarted under the client.
if [[ -n $standalone && -n ${DK_STARTED_PID:-} ]]; then
	dk_daemon_down
	if wait_line '^down ' 10; then
		t_pass "client: engine stopped: loss reported ($(grep -m1 '^down' "$out"))"
	else
		t_fail "client: engine loss" "$(cat "$out")"
	fi
	dk_daemon_up "$DK_LOGDIR" >/dev/null
	if wait_line '^up$' 30 2 && wait_line "^seen $a " 30 3; then
		t_pass "client: reconnected after dockerd restarted; the restarted container seen again"
	else
		t_fail "client: reconnect" "$(cat "$out")"
	fi
	(($(grep -c '^down' "$out") == 1)) && t_pass "client: the loss reported once during the outage" ||
		t_fail "client: down lines" "$(grep '^down' "$out")"
else
	t_skip "client: dockerd restart" "dockerd was not started by this run"
fi
kill -0 "$client_pid" 2>/dev/null && t_pass "client: still running" || t_fail "client" "exited"
stop_client
rm -f "$out"
[[ -n $standalone ]] && dk_finish
exit 0
