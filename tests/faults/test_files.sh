#!/bin/bash
# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../lib
# Faults of oomguard's surroundings, a sidecar on gcsim at a steady 62% of
# 256 MiB:
#  1. RLIMIT_NOFILE 16 (oomguard needs about 20 descriptors): it stops at
#     start-up with exit 1 and says which descriptor it could not open;
#  2. memory.stat empty (/dev/null bound over it in a private mount
#     namespace): metric workingset falls back to the usage; gc requests
#     at 60% as before;
#  3. the watched cgroup removed (the app killed, the directory removed):
#     a message and exit 0.
# Each: nothing outside the cgroup signalled.
set -uo pipefail
export OOMGUARD_GC_REARM_BELOW=50%
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
f_setup
f_gcsim ffiles

(
	ulimit -n 16
	exec "$OOMGUARD" --cgroup "$dir" --pid "$app" --gc-at 60% --restart-at none --kill-at none
) 2>"$tmp/nofile.log" &
og=$!
t_timeout 10 tail --pid="$og" -f /dev/null
wait "$og"
rc=$?
if ((rc == 1)) && grep -q 'Too many open files' "$tmp/nofile.log"; then
	t_pass "RLIMIT_NOFILE 16: exit 1 at start-up: $(grep -m1 'Too many' "$tmp/nofile.log" | cut -c26-)"
else
	t_fail "RLIMIT_NOFILE 16" "exit $rc (want 1): $(tail -3 "$tmp/nofile.log")"
fi

unshare -m bash -c 'mount --bind /dev/null "$1/memory.stat" && exec "$2" --cgroup "$1" --pid "$3" \
	--gc-at 60% --restart-at none --kill-at none' nostat "$dir" "$OOMGUARD" "$app" \
	2>"$tmp/nostat.log" &
og=$!
if t_wait_log "$tmp/nostat.log" "gc: .*SIGUSR1 to pid $app: sent" 10; then
	t_pass "memory.stat empty: gc requests at 60% all the same ($(grep -m1 'gc: ' "$tmp/nostat.log" | cut -c26- | cut -c1-60)...)"
else
	t_fail "memory.stat empty" "$(tail -3 "$tmp/nostat.log")"
fi
kill -TERM "$og"
wait "$og"

kill -KILL "$app" 2>/dev/null
wait "$app" 2>/dev/null
cg_spawn "$dir" "$WORKLOAD_DIR/gcsim" --limit 256M --live 30 --garbage-ratio 1.0 >/dev/null
app=$CG_PID
"$OOMGUARD" --cgroup "$dir" --pid "$app" --gc-at 90% --restart-at none --kill-at none \
	2>"$tmp/gone.log" &
og=$!
# Its start-up ends with taking the target: the app dies only after.
t_wait_log "$tmp/gone.log" "target: pid $app" 10
kill -KILL "$app"
wait "$app" 2>/dev/null
for ((i = 0; i < 50; i++)); do rmdir "$dir" 2>/dev/null && break; sleep 0.1; done
t_timeout 10 tail --pid="$og" -f /dev/null
wait "$og"
rc=$?
if ((rc == 0)) && grep -q 'the watched cgroup was removed' "$tmp/gone.log"; then
	t_pass "the watched cgroup removed: said so, exit 0"
else
	t_fail "cgroup removed" "exit $rc (want 0): $(tail -3 "$tmp/gone.log")"
fi
f_sentinel_check "file faults"
t_summary
