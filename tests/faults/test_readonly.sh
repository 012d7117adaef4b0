#!/bin/bash
# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../lib
# The cgroupfs read-only, as inside a container: a sidecar (oomguard
# --cgroup DIR --pid P, gc at 75%) in a private mount namespace where the
# memory hierarchy is bound read-only, watching gcsim at a steady 62% of
# 256 MiB. It cannot register the v1 eventfds and says once that polling
# carries the load (and that its reserve, which would raise the limit,
# cannot be held: a frozen cgroup gets SIGKILL); the limit lowered by the
# operator (outside, where it is writable) under the usage's gc level is
# seen and gc requests follow. Throughout: each refused write said at
# start-up and never again, no descriptor
# leak, the limit as the operator set it, nothing outside the cgroup
# signalled, exit 0 on SIGTERM.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
f_setup
f_gcsim fro
mnt=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ { print $5 }' /proc/self/mountinfo)
unshare -m sh -c 'mount -o bind,ro "$0" "$0" && exec "$@"' "$mnt" \
	"$OOMGUARD" --log-level debug --cgroup "$dir" --pid "$app" --gc-at 75% 2>"$tmp/og.log" &
og=$!
t_wait_log "$tmp/og.log" 'limit 256.0MiB: gc at 192.0MiB' 10 || t_fail "start" "$(cat "$tmp/og.log")"
sleep 0.5
fds0=$(f_fds "$og")
if grep -q 'cannot register v1 threshold notifications.*polling carries the load' "$tmp/og.log" &&
	kill -0 "$og" 2>/dev/null; then
	t_pass "read-only: $(grep -m1 'polling carries' "$tmp/og.log" | cut -c26- | sed 's| on .*:|:|')"
else
	t_fail "read-only: notifications" "$(head -8 "$tmp/og.log")"
fi

mark=$(f_mark "$tmp/og.log")
echo 200M >"$dir/memory.limit_in_bytes"
if f_wait_after "$tmp/og.log" "$mark" 'limit 200.0MiB: gc at 150.0MiB' 5 &&
	f_wait_after "$tmp/og.log" "$mark" "gc: .*SIGUSR1 to pid $app: sent" 5; then
	t_pass "read-only: the lowered limit seen by polling, gc requests"
else
	t_fail "read-only: limit lowered" "$(tail -n +"$((mark + 1))" "$tmp/og.log" | tail -3)"
fi
sleep 2
f_stop
errs=$(grep -c 'Read-only file system' "$tmp/og.log")
again=$(f_count_after "$tmp/og.log" "$mark" 'Read-only file system')
if ((errs > 0 && again == 0 && rc == 0 && fds1 == fds0)) && [[ ${limits%% *} == $((200 << 20)) ]]; then
	t_pass "read-only: $errs refused writes said at start-up and not again, exit 0, descriptors $fds0 then $fds1, the limit as the operator set it"
else
	t_fail "read-only" "$errs refused writes said, $again after the start, exit $rc, descriptors $fds0 then $fds1, limit ${limits%% *}"
fi
f_sentinel_check "read-only cgroupfs"
cg_destroy "$dir"
t_summary
