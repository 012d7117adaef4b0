#!/bin/bash
# The field scenario in Docker: the Go service (examples/go) under
# `docker run --memory 256m --oom-kill-disable`.
#  1. without oomguard the container freezes: under_oom 1 in its cgroup and
#     `docker exec` does not answer; `docker rm -f` still removes it
#  2. oomguard probe inside the container sees the container's cgroup
#  3. with oomguard as the entrypoint (the image as built, defaults) it runs
#     FIELD_SECS without freezing, exec answers, the peak stays under the
#     limit, the gc requests are in the log, and everything runs non-root
# Run by run.sh, which builds the images and removes the containers.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/lib.sh"
trap 'exit 143' TERM
trap dk_rm_all EXIT

if [[ $(dk 10 info -f '{{.CgroupVersion}}') != 1 ]]; then
	t_skip "field scenario" "needs cgroup v1: Docker cannot disable the OOM killer on v2"
	exit 0
fi

# 1. The control run: the service alone.
c=$(dk_run alone --memory 256m --memory-swap 256m --oom-kill-disable \
	--entrypoint /usr/local/bin/gcapp "$IMG_GO")
dir=$(dk_memdir "$c")
froze=
for ((i = 0; i < 150; i++)); do
	if [[ $(dk_under_oom "$dir") == 1 ]]; then
		froze=$((i / 5))
		break
	fi
	sleep 0.2
done
if [[ -n $froze ]]; then
	t_pass "without oomguard the container freezes: under_oom 1 in $dir after about ${froze}s"
else
	t_fail "control run" "no under_oom 1 within 30 s: $(dk 10 logs "$c" 2>&1 | tail -3)"
fi
# The logs first: once an exec hangs in the container, the daemon holds
# every request for it, docker logs included.
dk_logs "$c" >"$DK_LOGDIR/alone.log"
# docker exec either hangs (its process parks in the OOM wait) or fails at
# once (runc's own allocations fail with ENOMEM in the frozen cgroup).
t0=$SECONDS
out=$(dk 5 exec "$c" true 2>&1)
rc=$?
if [[ -n $froze && $rc == 124 ]]; then
	t_pass "without oomguard docker exec does not answer (hung, given up after $((SECONDS - t0))s)"
elif [[ -n $froze && $rc != 0 ]]; then
	t_pass "without oomguard docker exec does not run (failed after $((SECONDS - t0))s: $(tr '\n' ' ' <<<"$out" | cut -c1-160))"
else
	t_fail "control run" "docker exec answered in a container that should be frozen"
fi
t0=$SECONDS
dk_rm_frozen "$c" "$dir"
case $? in
0) t_pass "docker rm -f removes the frozen container" ;;
1) t_pass "docker rm -f removes the frozen container once the host SIGKILLs the exec stuck in it (Docker's shim waits for it)" ;;
*) t_fail "control run" "cannot remove the frozen container $c" ;;
esac
if [[ -n $(dk 10 ps -aq --filter "id=$c") ]]; then
	t_fail "control run" "$c still exists"
fi

# 2. What oomguard sees from inside a container.
probe=$(dk 30 run --rm --label "oomguard-test=$DK_RUN" --network none --memory 256m \
	--oom-kill-disable --entrypoint /usr/local/bin/oomguard "$IMG_OOMGUARD" probe 2>&1)
printf '%s\n' "$probe" >"$DK_LOGDIR/probe.log"
if grep -q '^cgroup: *v1' <<<"$probe" && grep -q '^limit: *256.0MiB' <<<"$probe" &&
	grep -q 'oom_kill_disable 1' <<<"$probe"; then
	t_pass "oomguard probe in a container: v1, limit 256.0MiB, oom_kill_disable 1"
else
	t_fail "probe in a container" "$probe"
fi

# 3. The same service under oomguard, the image's defaults.
dk_field_guarded guarded "$IMG_GO" "$FIELD_SECS"

# Non-root: oomguard and the app run as the image's user.
c=$(dk_run uid "$IMG_GO")
sleep 1
pid=$(dk 10 inspect -f '{{.State.Pid}}' "$c")
uid_og=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
uid_app=$(awk '/^Uid:/ { print $2 }' "/proc/$(cat "/proc/$pid/task/$pid/children" 2>/dev/null | awk '{print $1}')/status" 2>/dev/null)
if [[ $uid_og == 10001 && $uid_app == 10001 ]]; then
	t_pass "oomguard (PID 1) and the app run as uid 10001, not root"
else
	t_fail "non-root" "oomguard uid '$uid_og', app uid '$uid_app'"
fi
dk_rm "$c"
exit 0
