#!/bin/bash
# The container's life under oomguard, with the Go service:
#  1. `docker update --memory` on a running container: oomguard follows the
#     new limit (its levels are logged again for it)
#  2. `docker stop`: the app gets SIGTERM, exits cleanly, and the
#     container's exit code is the app's (42 here)
# Run by run.sh, which builds the images and removes the containers.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/lib.sh"
trap 'exit 143' TERM
trap dk_rm_all EXIT

v=$(dk 10 info -f '{{.CgroupVersion}}')
# A 100M cache fits under 200M as well as under 256M.
if [[ $v == 1 ]]; then
	c=$(dk_run life --memory 256m --memory-swap 256m --oom-kill-disable "$IMG_GO" \
		/usr/local/bin/gcapp -target 100M -term-exit 42)
else
	c=$(dk_run life --memory 256m --memory-swap 256m "$IMG_GO" \
		/usr/local/bin/gcapp -target 100M -term-exit 42)
fi

# 1. The limit lowered at run time.
if dk_wait_log "$c" 'limit 256\.0MiB: gc at 192\.0MiB' 15; then
	t0=$SECONDS
	if ! out=$(dk 30 update --memory 200m --memory-swap 200m "$c" 2>&1); then
		t_fail "docker update" "$out"
	elif dk_wait_log "$c" 'limit 200\.0MiB: gc at 150\.0MiB, restart at 180\.0MiB, kill at 194\.0MiB' 15; then
		t_pass "docker update --memory 200m: oomguard logged the new levels after $((SECONDS - t0))s or less"
	else
		t_fail "docker update" "no 'limit 200.0MiB: gc at 150.0MiB' line: $(dk 10 logs "$c" 2>&1 | grep limit)"
	fi
	if [[ $v == 1 ]] && dir=$(dk_memdir "$c") && [[ $(<"$dir/memory.limit_in_bytes") == $((200 << 20)) ]]; then
		t_pass "the container's cgroup limit is 200 MiB on the host"
	elif [[ $v == 1 ]]; then
		t_fail "docker update" "host cgroup limit $(cat "$dir/memory.limit_in_bytes" 2>&1)"
	fi
else
	t_fail "docker update" "oomguard never logged the 256 MiB levels: $(dk 10 logs "$c" 2>&1 | tail -5)"
fi

# 2. docker stop: SIGTERM to oomguard (PID 1), passed on to the app.
sleep 2
t0=${EPOCHREALTIME/[.,]/}
dk 60 stop -t 20 "$c" >/dev/null
ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
code=$(dk 10 inspect -f '{{.State.ExitCode}}' "$c")
logs=$(dk 10 logs "$c" 2>&1)
printf '%s\n' "$logs" >"$DK_LOGDIR/life.log"
if [[ $code == 42 ]] && grep -q 'terminated: exiting cleanly with status 42' <<<"$logs" &&
	grep -qE 'SIGTERM received; passing it on to pid [0-9]+' <<<"$logs" &&
	grep -qE 'the app \(pid [0-9]+\) exited with code 42' <<<"$logs" &&
	! grep -qE 'kill: |sending SIGKILL|killed by signal' <<<"$logs" && ((ms < 10000)); then
	t_pass "docker stop: the app got SIGTERM and exited cleanly in ${ms} ms; container exit code 42, the app's"
else
	t_fail "docker stop" "exit code $code after ${ms} ms: $(tail -4 <<<"$logs")"
fi
exit 0
