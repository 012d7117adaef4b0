#!/bin/bash
# shellcheck source-path=SCRIPTDIR/../lib
# The host agent's --cgroups on real v1 cgroups made and removed while it
# runs (oomguard --cgroups NAME, [pattern.NAME] match = a glob under the
# memory hierarchy's root):
#   C1. a.scope, there before the start, its app PID 1 of a pid namespace
#       (unshare): guarded with the pattern's settings, the app its target,
#       gc requests logged with the cgroup's name; the app (gcsim, the OOM
#       killer off) never freezes in 10 s
#   C2. b.scope made while the agent runs: found (inotify) within 2 s, its
#       processes the target (none is PID 1 of a namespace)
#   C3. b.scope removed: reported, no longer guarded
#   C4. c.scope, which does not match the glob (c.slice): left alone
#   C5. SIGTERM: the agent ends with 0, a.scope's limit as it was
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
cg_test_setup og
cg_need_v1 "--cgroups on cgroup v1" "needs root and a v1 memory cgroup"
MiB=$((1 << 20))
mnt=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5}' /proc/self/mountinfo)
rel=${self#"$mnt"/}
top=og-cgs-$$

parent=$(cg_create "$top" $((1024 * MiB)))
a=$(cg_create "$top/a.scope" $((128 * MiB)) oom_disable)
cat >"$tmp/og.ini" <<EOF2
[watch]
poll_max = 500ms
[gc]
at = 70%
[pattern.t]
match = $rel/$top/*.scope
gc.at = 60%
EOF2
# C1's app: PID 1 of its own pid namespace, in a.scope.
cg_spawn "$a" unshare --pid --fork "$WORKLOAD_DIR/gcsim" --live 40 --garbage-ratio 3 --rate 50 \
	--duration 30 >"$tmp/a.out"
sleep 0.3
"$OOMGUARD" -c "$tmp/og.ini" --cgroups t 2>"$tmp/og.log" &
og=$!
if t_wait_log "$tmp/og.log" "cgroup $rel/$top/a.scope: guarded$" 10 &&
	grep -q "cgroup $rel/$top/a.scope: target: pid" "$tmp/og.log"; then
	t_pass "C1: a.scope there at the start guarded, its namespace's PID 1 the target"
else
	t_fail "C1: a.scope" "$(cut -c1-200 "$tmp/og.log")"
fi

# C2: made while it runs.
b=$(cg_create "$top/b.scope" $((128 * MiB)))
cg_spawn "$b" "$WORKLOAD_DIR/hold" 10 >/dev/null
if t_wait_log "$tmp/og.log" "cgroup $rel/$top/b.scope: guarded (every process)" 2; then
	t_pass "C2: b.scope made while the agent runs found within 2 s, every process its target"
else
	t_fail "C2: b.scope" "$(grep -c . "$tmp/og.log") lines; $(tail -3 "$tmp/og.log" | cut -c1-200)"
fi

# C4: c.slice does not match *.scope.
c=$(cg_create "$top/c.slice" $((128 * MiB)))

sleep 8
# C1 (the rest): gc requests by name, gcsim never frozen.
gcs=$(grep -c "cgroup $rel/$top/a.scope: gc: .*SIGUSR1 to pid" "$tmp/og.log")
served=$(awk '{for (i = 1; i <= NF; i++) if ($i ~ /^usr1=/) { sub(/usr1=/, "", $i); u = $i }} END {print u + 0}' "$tmp/a.out")
if ((gcs > 0 && served > 0)) && [[ $(cg_under_oom "$a") == 0 ]]; then
	t_pass "C1: $gcs gc requests logged for a.scope by name, $served served, never frozen"
else
	t_fail "C1: gc" "gc lines $gcs, served $served, under_oom $(cg_under_oom "$a"); $(grep a.scope "$tmp/og.log" | tail -5 | cut -c1-250); $(tail -2 "$tmp/a.out")"
fi
if ! grep -q "c.slice" "$tmp/og.log"; then
	t_pass "C4: c.slice, not matching the glob, left alone"
else
	t_fail "C4: c.slice" "$(grep c.slice "$tmp/og.log" | head -2)"
fi

# C3: b.scope removed.
cg_destroy "$b"
if t_wait_log "$tmp/og.log" "cgroup $rel/$top/b.scope: .*no longer guarded" 3; then
	t_pass "C3: b.scope removed: reported, no longer guarded"
else
	t_fail "C3: b.scope removed" "$(tail -3 "$tmp/og.log" | cut -c1-200)"
fi

# C5: SIGTERM.
kill -TERM "$og"
t_timeout 10 tail --pid="$og" -f /dev/null
wait "$og"
rc=$?
limit=$(<"$a/memory.limit_in_bytes")
if ((rc == 0 && limit == 128 * MiB)); then
	t_pass "C5: SIGTERM: exit 0, a.scope's limit left at 128 MiB"
else
	t_fail "C5: SIGTERM" "exit $rc, limit $limit"
fi
og=
cg_destroy "$c"
cg_destroy "$a"
cg_destroy "$parent"
t_summary
