#!/bin/bash
# shellcheck source-path=SCRIPTDIR/../lib
# Hooks before the signal, on real v1 cgroups with the real binary as the
# entrypoint (it runs in the watched cgroup, as in a container). The app
# is a shell holding 180M of a 256M cgroup (gc off, restart at 150M, kill
# off unless said), signalled as a process group; the hook writes its
# event and a timestamp to a record, then sleeps.
#
#  H1  the restart hook runs before the SIGTERM: its record comes before
#      the app's SIGTERM handler's, the signal waited for its end (the
#      hook sleeps 1 s), OOMGUARD_WHEN=before.
#  H2  a hook that sleeps past its timeout (1 s) holds the SIGTERM about
#      that long and no longer: handler - hook start >= 0.9 s and < 3 s.
#  H3  the SIGKILL at the end of a restart's grace (the app ignores
#      SIGTERM) waits for the kill hook (OOMGUARD_SIGNAL=SIGKILL, before)
#      and is counted: oomguard status --json counts the restart and the
#      kill.
#  H4  a frozen cgroup (burst, OOM killer off): the rescue sends its signal
#      at once, no signal is held for a hook, and the hooks (restart,
#      rescue) run after it, once the cgroup is no longer frozen.
#  H5  the live set's estimate outlives the app: gcsim (102 MiB live) gets
#      gc requests and ends, an idle app follows; 3 s later the estimate is
#      still gcsim's (>= 80 MiB), not the nearly empty cgroup's.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
source "$here/../lib/prometheus.sh"
cg_test_setup og
cg_need_v1 "hooks on cgroup v1" "needs root and a v1 memory cgroup"
start=$SECONDS
port=$((20000 + ($$ + 7) % 20000))
rec=$tmp/rec
export HOOK_REC=$rec HOOK_TMP=$tmp

# The app: the TERM handler's timestamp (or SIGTERM ignored), 180M held
# by a child in its process group.
cat >"$tmp/app.sh" <<APP
#!/bin/bash
if [[ \$1 == ignore ]]; then
	trap '' TERM
else
	trap 'echo "term \$(date +%s%N)" >>"$rec"; kill \$h 2>/dev/null; exit 0' TERM
fi
"$WORKLOAD_DIR/hold" 180 >/dev/null &
h=\$!
while kill -0 \$h 2>/dev/null; do wait \$h; done
APP
# The hook: its event, when, signal and start, its environment, then
# HOOK_SLEEP seconds and its end.
cat >"$tmp/hook.sh" <<'HOOK'
#!/bin/bash
echo "hook $OOMGUARD_EVENT $OOMGUARD_WHEN $OOMGUARD_SIGNAL $(date +%s%N)" >>"$HOOK_REC"
env | grep '^OOMGUARD_' | sort >"$HOOK_TMP/hook.$OOMGUARD_EVENT.env"
sleep "${HOOK_SLEEP:-0}"
echo "end $OOMGUARD_EVENT $(date +%s%N)" >>"$HOOK_REC"
HOOK
chmod +x "$tmp/app.sh" "$tmp/hook.sh"

# field WORD N: the Nth field of the record's first line starting with WORD.
field() {
	awk -v w="$1" -v n="$2" '$1 == w { print $n; exit }' "$rec" 2>/dev/null
}

# run_restart NAME HOOK_SLEEP HOOK_TIMEOUT: oomguard runs the app until
# its restart, the restart hook on.
run_restart() {
	rm -f "$rec"
	HOOK_SLEEP=$2 OOMGUARD_HOOK_EXEC=$tmp/hook.sh OOMGUARD_HOOK_ON=restart \
		OOMGUARD_HOOK_TIMEOUT=$3 OOMGUARD_RESTART_STARTUP=1s OOMGUARD_SUPERVISE_RESTART=never \
		OOMGUARD_ACTION_TARGET=group cg_run "$dir" 40 "$OOMGUARD" -c /dev/null \
		--gc-at none --restart-at 150M --kill-at none -- "$tmp/app.sh" >/dev/null 2>"$tmp/$1.log"
}

dir=$(cg_create "og-hook-$$" 256M) || exit 1

# H1
run_restart h1 1 3s
hook=$(field hook 5) term=$(field term 2) end=$(field end 3)
why=()
[[ $(field hook 2) == restart && $(field hook 3) == before && $(field hook 4) == SIGTERM ]] ||
	why+=("no restart hook before SIGTERM recorded")
[[ -n $hook && -n $term && -n $end ]] || why+=("a timestamp is missing")
((${#why[@]} == 0)) && { ((hook < term)) || why+=("the hook ran after the app's handler"); }
((${#why[@]} == 0)) && { ((end <= term)) || why+=("the signal did not wait for the hook's end"); }
((${#why[@]} == 0)) && { (((term - hook) / 1000000 >= 900)) || why+=("held $(((term - hook) / 1000000)) ms, not the hook's 1 s"); }
grep -q '^OOMGUARD_WHEN=before$' "$tmp/hook.restart.env" 2>/dev/null || why+=("no OOMGUARD_WHEN=before")
grep -q 'restart: held for the restart hook' "$tmp/h1.log" || why+=("the hold is not logged")
((${#why[@]} == 0)) && t_pass "H1 the restart hook runs before the SIGTERM, which waits for it" ||
	t_fail "H1 hook before restart" "${why[*]}: $(tr '\n' ' ' <"$rec" 2>/dev/null) $(grep -E 'restart|hook' "$tmp/h1.log" | head -5)"

# H2
run_restart h2 30 1s
hook=$(field hook 5) term=$(field term 2)
why=()
[[ -n $hook && -n $term ]] || why+=("a timestamp is missing")
ms=$(((${term:-0} - ${hook:-0}) / 1000000))
((${#why[@]} == 0)) && { ((ms >= 900 && ms < 3000)) || why+=("held $ms ms for a hook with a 1 s timeout"); }
grep -q 'hook restart: killed at its timeout (1s)' "$tmp/h2.log" || why+=("the hook was not killed at its timeout")
((${#why[@]} == 0)) && t_pass "H2 a hook past its timeout holds the signal $ms ms (timeout 1 s)" ||
	t_fail "H2 hook timeout bounds the hold" "${why[*]}: $(grep -E 'restart|hook' "$tmp/h2.log" | head -5)"

# H3
rm -f "$rec"
HOOK_SLEEP=0.3 OOMGUARD_HOOK_EXEC=$tmp/hook.sh OOMGUARD_HOOK_ON=kill OOMGUARD_HOOK_TIMEOUT=2s \
	OOMGUARD_RESTART_STARTUP=1s OOMGUARD_ACTION_TARGET=group cg_spawn "$dir" \
	"$OOMGUARD" -c /dev/null --gc-at none --restart-at 150M --kill-at none --grace 2s \
	--metrics "127.0.0.1:$port" -- "$tmp/app.sh" ignore >/dev/null 2>"$tmp/h3.log"
og=$CG_PID
t_wait_log "$tmp/h3.log" 'kill: .*SIGKILL to pid [0-9]*: sent' 40
t_wait_log "$tmp/h3.log" "restarting the app .*grace ran out" 5
"$OOMGUARD" status --json --metrics "127.0.0.1:$port" >"$tmp/h3.json" 2>&1
t_stop "$og"
og=
why=()
[[ $(field hook 2) == kill && $(field hook 3) == before && $(field hook 4) == SIGKILL ]] ||
	why+=("no kill hook before SIGKILL recorded")
held=$(grep -n -m1 'kill: held for the kill hook' "$tmp/h3.log" | cut -d: -f1)
ended=$(grep -n -m1 'hook kill: exited with 0' "$tmp/h3.log" | cut -d: -f1)
sent=$(grep -n -m1 'kill: .*SIGKILL to pid [0-9]*: sent' "$tmp/h3.log" | cut -d: -f1)
[[ -n $held && -n $ended && -n $sent ]] && ((held < ended && ended < sent)) ||
	why+=("not held, hook ended, then sent (lines ${held:-?} ${ended:-?} ${sent:-?})")
grep -q "restarting the app .*grace ran out" "$tmp/h3.log" || why+=("no grace-end kill")
grep -q '"restarts":[1-9]' "$tmp/h3.json" || why+=("status counts no restart")
grep -q '"kills":[1-9]' "$tmp/h3.json" || why+=("status counts no kill")
((${#why[@]} == 0)) && t_pass "H3 the grace-end SIGKILL waits for the kill hook and is counted" ||
	t_fail "H3 grace-end kill" "${why[*]}: $(grep -o '"counts":{[^}]*}' "$tmp/h3.json") $(grep -E 'kill|hook|grace' "$tmp/h3.log" | head -6)"
cg_destroy "$dir"

# H4
if ! t_skip_unlocked H4; then
	dir=$(cg_create "og-hook-r-$$" 256M oom_disable) || exit 1
	rm -f "$rec"
	OOMGUARD_HOOK_EXEC=$tmp/hook.sh OOMGUARD_HOOK_ON=restart,kill,rescue \
		cg_spawn "$dir" "$OOMGUARD" --kill-at none --grace 3s -- \
		"$WORKLOAD_DIR/burst" --term exit:42 >"$tmp/h4.out" 2>"$tmp/h4.log"
	og=$CG_PID
	t_wait_log "$tmp/h4.log" 'hook rescue: exited' 30
	t_stop "$og"
	og=
	why=()
	rescue=$(grep -n -m1 'rescue: the cgroup' "$tmp/h4.log" | cut -d: -f1)
	hooked=$(grep -n -m1 'hook rescue: exited' "$tmp/h4.log" | cut -d: -f1)
	[[ -n $rescue ]] || why+=("no rescue")
	grep -q '^handler SIGTERM' "$tmp/h4.out" || why+=("the app's handler did not run")
	grep -q 'held for' "$tmp/h4.log" && why+=("a signal was held for a hook")
	awk '$1 == "hook" && $3 != "after"' "$rec" 2>/dev/null | grep -q . && why+=("a hook ran before its signal")
	[[ -n $rescue && -n $hooked ]] && ((rescue < hooked)) || why+=("the rescue hook did not run after the rescue")
	((${#why[@]} == 0)) && t_pass "H4 a frozen cgroup: no signal held, the hooks after the rescue" ||
		t_fail "H4 rescue" "${why[*]}: $(tr '\n' ' ' <"$rec" 2>/dev/null) $(grep -E 'rescue|hook|held' "$tmp/h4.log" | head -6)"
	cg_destroy "$dir"
fi

# H5
dir=$(cg_create "og-hook-l-$$" 256M) || exit 1
cat >"$tmp/twice.sh" <<APP
#!/bin/bash
# gcsim the first time (gc requests that take effect), then idle.
[[ -e $tmp/ran ]] && exec sleep 60
touch $tmp/ran
exec "$WORKLOAD_DIR/gcsim" --limit 256M --live 40 --duration 5
APP
chmod +x "$tmp/twice.sh"
OOMGUARD_SUPERVISE_RESTART=always cg_spawn "$dir" "$OOMGUARD" -c /dev/null \
	--metrics "127.0.0.1:$port" -- "$tmp/twice.sh" >"$tmp/h5.out" 2>"$tmp/h5.log"
og=$CG_PID
t_wait_log "$tmp/h5.log" 'the app (pid [0-9]*) exited with code 0' 30
for _ in $(seq 100); do
	(($(grep -c 'started .*twice.sh as pid' "$tmp/h5.log") >= 2)) && break
	sleep 0.1
done
sleep 3 # samples of the idle app's nearly empty cgroup
est=$(http_get "127.0.0.1:$port" /metrics | awk '/^oomguard_live_bytes_estimate/ { print int($NF / 1048576) }')
t_stop "$og"
og=
# gcsim keeps 102 MiB live; the idle app's cgroup holds a few MiB.
if [[ -n $est ]] && ((est >= 80)); then
	t_pass "H5 the live set's estimate outlives the app: ${est} MiB after its end"
else
	t_fail "H5 live set kept" "estimate ${est:-none} MiB after the app's end: $(grep -E 'started|exited|gc:' "$tmp/h5.log" | head -5)"
fi
cg_destroy "$dir"
echo "# $((SECONDS - start)) s"
t_summary
