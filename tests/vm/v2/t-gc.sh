#!/bin/sh
# t-gc.sh - gc requests keep gcsim under its limit on cgroup v2.
#
# v2 has no oom_kill_disable, so the v1 "freeze" becomes an OOM kill: the
# same gcsim (heap goal 120% of a 256M memory.max) without oomguard is
# killed by the kernel (SIGKILL, oom_kill counter up); with oomguard as
# its entrypoint it runs GC_SECS seconds (suite.env; 10 by default) with no
# oom_kill, memory.peak below memory.max, and gc requests in the log.
#
# Rate: 64 MiB/s, as on v1. Under TCG the VM touches about 200 MiB/s, so
# gcsim's own allocation still outruns the headroom in well under a second.

. /payload/vmlib.sh

secs=${GC_SECS:-10}
limit=$((256 << 20))

# 1. Without oomguard: the kernel kills it.
dir=$(cg_new gc-alone 256M) || exit 1
cg_spawn "$dir" "$TMP/alone.out" gcsim --rate 64 --duration "$secs"
wait_pid $((secs * 10 + 200)) "$SPAWNED"
ooms=$(ev "$dir" oom_kill)
if [ "$WAITED" = 137 ] && [ "$ooms" -ge 1 ]; then
	pass v2-gc-control "without oomguard gcsim is OOM-killed (exit 137, oom_kill $ooms, max $(ev "$dir" max))"
else
	fail v2-gc-control "gcsim alone: exit $WAITED, oom_kill $ooms (want 137 and >= 1)" -- "$TMP/alone.out"
fi
cg_destroy "$dir"

# 2. With oomguard as the entrypoint.
dir=$(cg_new gc-guard 256M) || exit 1
cg_spawn "$dir" "$TMP/guard.log" oomguard --gc-at 75% -- gcsim --rate 64 --duration "$secs"
wait_pid $((secs * 10 + 200)) "$SPAWNED"
ooms=$(ev "$dir" oom_kill)
peak=$(cat "$dir/memory.peak")
gcs=$(grep -c 'gc: .* SIGUSR1 to pid [0-9]*: sent' "$TMP/guard.log")
served=$(sed -n 's/.* usr1=\([0-9]*\)$/\1/p' "$TMP/guard.log" | tail -n 1)
if [ "$WAITED" = 0 ] && [ "$ooms" = 0 ] && [ "$peak" -lt "$limit" ] && [ "$gcs" -gt 0 ] &&
	[ "${served:-0}" -gt 0 ]; then
	pass v2-gc-keeps-under-max "${secs}s with oomguard: exit 0, oom_kill 0, peak $((peak >> 20)) MiB of 256, $gcs gc requests, $served served"
else
	fail v2-gc-keeps-under-max "exit $WAITED, oom_kill $ooms, peak $peak of $limit, gc lines $gcs, served ${served:-none}" -- "$TMP/guard.log"
fi
if grep -qE 'gc: workingset [0-9.]+MiB of 256\.0MiB \((7[5-9]|[89][0-9])\.[0-9]+%\), SIGUSR1 to pid [0-9]+: sent' "$TMP/guard.log"; then
	pass v2-gc-action-line "$(grep -m1 'gc: ' "$TMP/guard.log" | cut -c26-)"
else
	fail v2-gc-action-line "no gc line with metric, limit 256.0MiB, percentage >= 75, signal, pid" -- "$TMP/guard.log"
fi
if grep -q 'watching /sys/fs/cgroup/og-gc-guard (cgroup v2, unified host)' "$TMP/guard.log"; then
	pass v2-gc-found-cgroup "oomguard found its own v2 cgroup"
else
	fail v2-gc-found-cgroup "no 'watching /sys/fs/cgroup/og-gc-guard (cgroup v2, unified host)'" -- "$TMP/guard.log"
fi
cg_destroy "$dir"
