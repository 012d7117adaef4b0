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
#   M1. --metrics: /metrics serves every guard's series, each labelled
#       with its cgroup, a pod's (kubepods/pod<UID>/k.scope, a second
#       --cgroups glob) with pod="<UID>"; promtool check metrics is clean
#   M2. b.scope removed: its series are gone, a.scope's stay
#   H1. a.scope's gc-episode hook: its own signal (the pattern's) and
#       cgroup in its environment.
#   R1. SIGHUP after the pattern's gc.at changed: the file read again,
#       a.scope's new gc level logged and served
#   R2. SIGHUP with a bad value in the pattern: refused with the file's
#       line, the old configuration kept, the agent guards on
#   R3. SIGHUP after the pattern's match changed to *.slice: c.slice is
#       guarded, a.scope no longer (a rescan)
#   C5. SIGTERM: the agent ends with 0, a.scope's limit as it was
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
source "$here/../lib/prometheus.sh"
cg_test_setup og
cg_need_v1 "--cgroups on cgroup v1" "needs root and a v1 memory cgroup"
MiB=$((1 << 20))
mnt=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5}' /proc/self/mountinfo)
rel=${self#"$mnt"/}
top=og-cgs-$$

port=$((20000 + $$ % 20000))
uid=0b5c9a4e-1f2d-4c3b-9a8e-7d6f5e4c3b2a

parent=$(cg_create "$top" $((1024 * MiB)))
a=$(cg_create "$top/a.scope" $((128 * MiB)) oom_disable)
kp=$(cg_create "$top/kubepods" $((512 * MiB)))
pod=$(cg_create "$top/kubepods/pod$uid" $((512 * MiB)))
k=$(cg_create "$top/kubepods/pod$uid/k.scope" $((64 * MiB)))
# conf GC_AT MATCH: the configuration, the pattern's gc.at and match.
conf() {
	cat >"$tmp/og.ini" <<EOF2
[watch]
poll_max = 500ms
[gc]
at = 70%
signal = SIGUSR2
[pattern.t]
match = $rel/$top/$2
gc.at = $1
gc.signal = SIGUSR1
[hook]
exec = $tmp/hook.sh
on = gc-episode
EOF2
}
# H1's hook: what it was told, a line a run.
printf '#!/bin/sh\necho "$OOMGUARD_EVENT $OOMGUARD_SIGNAL $OOMGUARD_CGROUP" >>%s\n' "$tmp/hook.out" >"$tmp/hook.sh"
chmod +x "$tmp/hook.sh"
conf 60% '*.scope'
# scrape FILE: /metrics into FILE.
scrape() {
	http_get "127.0.0.1:$port" /metrics >"$1" 2>/dev/null
}
# C1's app: PID 1 of its own pid namespace, in a.scope.
cg_spawn "$a" unshare --pid --fork "$WORKLOAD_DIR/gcsim" --live 40 --garbage-ratio 3 --rate 50 \
	--duration 30 >"$tmp/a.out"
sleep 0.3
"$OOMGUARD" -c "$tmp/og.ini" --cgroups t --cgroups "$rel/$top/kubepods/*/*.scope" \
	--metrics "127.0.0.1:$port" 2>"$tmp/og.log" &
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
# H1: the agent runs a guard's hook with the guard's own settings: the
# pattern's gc.signal, not the file's.
if grep -q "^gc-episode SIGUSR1 .*/$top/a.scope$" "$tmp/hook.out" 2>/dev/null; then
	t_pass "H1: a.scope's gc-episode hook told its own signal (SIGUSR1) and cgroup"
else
	t_fail "H1: hook" "$(head -3 "$tmp/hook.out" 2>&1); $(grep -i hook "$tmp/og.log" | head -3 | cut -c1-200)"
fi
if ! grep -q "c.slice" "$tmp/og.log"; then
	t_pass "C4: c.slice, not matching the glob, left alone"
else
	t_fail "C4: c.slice" "$(grep c.slice "$tmp/og.log" | head -2)"
fi

# M1: every guard's series, each with its own labels (b.scope's limit,
# written after its mkdir, read by a sample since).
scrape "$tmp/m1.prom"
na=$(grep -cF "{cgroup=\"$a\"" "$tmp/m1.prom")
nb=$(grep -cF "{cgroup=\"$b\"" "$tmp/m1.prom")
nk=$(grep -cF "{cgroup=\"$k\",pod=\"$uid\"" "$tmp/m1.prom")
if ((na > 10 && nb > 10 && nk > 10)) &&
	grep -qxF "oomguard_memory_limit_bytes{cgroup=\"$a\"} $((128 * MiB))" "$tmp/m1.prom" &&
	grep -qxF "oomguard_memory_limit_bytes{cgroup=\"$b\"} $((128 * MiB))" "$tmp/m1.prom" &&
	grep -qxF "oomguard_memory_limit_bytes{cgroup=\"$k\",pod=\"$uid\"} $((64 * MiB))" "$tmp/m1.prom"; then
	t_pass "M1: /metrics serves a.scope's ($na), b.scope's ($nb) and k.scope's ($nk) series, each its own limit, k.scope's with pod=\"$uid\""
else
	t_fail "M1: every guard's series" "a $na, b $nb, k $nk; $(grep -m4 memory_limit_bytes "$tmp/m1.prom")"
fi
if ! command -v promtool >/dev/null; then
	t_skip "M1: promtool" "Debian's prometheus package is not installed (make deps)"
elif promtool check metrics <"$tmp/m1.prom" >"$tmp/m1.lint" 2>&1; then
	t_pass "M1: promtool check metrics is clean on the agent's /metrics"
else
	t_fail "M1: promtool" "$(head -5 "$tmp/m1.lint")"
fi

# C3: b.scope removed.
cg_destroy "$b"
if t_wait_log "$tmp/og.log" "cgroup $rel/$top/b.scope: .*no longer guarded" 3; then
	t_pass "C3: b.scope removed: reported, no longer guarded"
else
	t_fail "C3: b.scope removed" "$(tail -3 "$tmp/og.log" | cut -c1-200)"
fi

# M2: b.scope's series gone with it.
scrape "$tmp/m2.prom"
if ! grep -qF "cgroup=\"$b\"" "$tmp/m2.prom" && grep -qF "cgroup=\"$a\"" "$tmp/m2.prom"; then
	t_pass "M2: b.scope removed: its series are gone, a.scope's stay"
else
	t_fail "M2: series of a removed cgroup" "$(grep -cF "cgroup=\"$b\"" "$tmp/m2.prom") of b.scope's left"
fi

# R1: a new gc level for the pattern.
conf 50% '*.scope'
kill -HUP "$og"
gc50="oomguard_level_bytes{cgroup=\"$a\",level=\"gc\"} $((128 * MiB / 2))"
if t_wait_log "$tmp/og.log" "configuration reloaded from $tmp/og.ini" 5 &&
	t_wait_log "$tmp/og.log" "cgroup $rel/$top/a.scope: limit .*: gc at 64.0MiB" 5 &&
	scrape "$tmp/r1.prom" && grep -qF "$gc50" "$tmp/r1.prom"; then
	t_pass "R1: SIGHUP: the pattern's new gc.at (50%) logged for a.scope and served"
else
	t_fail "R1: reload" "$(grep -e reload -e 'gc at' "$tmp/og.log" | tail -4 | cut -c1-200); $(grep -F 'level="gc"' "$tmp/r1.prom" | head -2)"
fi

# R2: a bad value: the old configuration stays.
conf 80 '*.scope'
kill -HUP "$og"
if t_wait_log "$tmp/og.log" "cannot reload the configuration: $tmp/og.ini:8: .*keeping the old one" 5 &&
	kill -0 "$og" && scrape "$tmp/r2.prom" && grep -qF "$gc50" "$tmp/r2.prom"; then
	t_pass "R2: SIGHUP with a bad gc.at: refused with its line, the old levels kept"
else
	t_fail "R2: bad reload" "$(grep -e reload "$tmp/og.log" | tail -3 | cut -c1-200)"
fi

# R3: the pattern now matches *.slice: a rescan.
conf 50% '*.slice'
kill -HUP "$og"
if t_wait_log "$tmp/og.log" "cgroup $rel/$top/c.slice: guarded" 5 &&
	t_wait_log "$tmp/og.log" "cgroup $rel/$top/a.scope: no longer matches --cgroups; no longer guarded" 5 &&
	scrape "$tmp/r3.prom" && grep -qF "cgroup=\"$c\"" "$tmp/r3.prom" &&
	! grep -qF "cgroup=\"$a\"" "$tmp/r3.prom"; then
	t_pass "R3: SIGHUP with a new match: c.slice guarded, a.scope no longer"
else
	t_fail "R3: rescan" "$(tail -4 "$tmp/og.log" | cut -c1-200)"
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
cg_destroy "$k"
cg_destroy "$pod"
cg_destroy "$kp"
cg_destroy "$parent"
t_summary
