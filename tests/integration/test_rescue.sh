#!/bin/bash
# The rescue of a frozen cgroup, on real v1 cgroups with the OOM killer
# disabled, oomguard (the entrypoint) and the app in one child cgroup of
# 256 MiB. The app is burst (tests/workload/burst.c), which fills the cgroup
# in well under a second; oomwait (tests/workload/oomwait.c, outside the
# cgroup) notes the moment of each freeze through the v1 OOM eventfd.
#
# So that only the rescue can act, the levels that would otherwise catch the
# burst on its way up are kept out of the way: the kill level is off, the
# restart level is held back by [restart] startup (10 s, far longer than the
# burst takes), and in T2 the gc level is above the limit (a freeze reaches
# every level). oomguard may also rescue a moment before the freeze, when
# usage is within the reserve of the limit and the full memory stall time
# grows: a rescue line saying "is about to freeze". That counts as a rescue
# in T2 and T3; T1 and every other run of T2 hide the pressure files from
# oomguard (as on a kernel without PSI), so that each of those runs really
# freezes, and so tests the rescue of a frozen cgroup every time.
#
#  T0  the control, without oomguard: burst freezes the cgroup, a SIGTERM
#      it handles stays pending, and 16 MiB freed by another process in the
#      cgroup wakes it into its handler (KERNEL.md, section 1).
#  T1  --term exit:42, no SIGUSR1 handler: the rescue sends SIGTERM and
#      releases the reserve, the handler runs and oomguard ([supervise]
#      restart = never) exits with 42. RESCUE_RUNS runs (20), each under a
#      timeout; the time from the freeze to the handler printed. Every other
#      run logs JSON, whose rescue line is checked field by field.
#  T2  --usr1 free: SIGUSR1, the app frees and keeps running (alive and not
#      frozen 3 s later); the reserve is taken back. RESCUE_FREE_RUNS (10),
#      every other one with the pressure files hidden (each must freeze).
#  T3  no handlers: the rescue sends SIGKILL; under on-watchdog the app is
#      restarted, and rescued again (the reserve retaken).
#  T4  oomguard answers while the cgroup is frozen: each run that froze has
#      its rescue line (T1's runs); the time from the freeze to it is printed
#      as a figure (log times are CLOCK_REALTIME), not asserted: it measures
#      the machine's load as much as oomguard.
#  T5  PID reuse: a main target (--pid in watch mode, and the entrypoint's
#      app) exits and a process outside the cgroup takes its PID, in a PID
#      namespace of the test's own: the newcomer must get no signal while the
#      cgroup goes over the gc and restart levels. A control run first shows
#      that the same push does signal a live target.
#  T6  an app that freezes an already nearly full cgroup (another process
#      holds 92%) within milliseconds of its start is rescued too: the
#      reserve is held from oomguard's start, before the app runs.
#  T7. [reserve] mode = limit (auto for a sidecar outside the cgroup):
#      oomguard --cgroup DIR --pid P raises the limit (and memsw) by the
#      reserve for the rescue; the app's SIGTERM handler runs, and both
#      limits are put back afterwards.
#
# RESCUE_TESTS picks tests ("0 3"); a test stops repeating after
# RESCUE_MAX_BAD (3) bad runs; RESCUE_KEEP=1 keeps the files of every run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/lib/testlib.sh"
source "$root/tests/lib/cgroup.sh"
tmp=$(mktemp -d)
bg_pids=()
cleanup() {
	local p
	for p in "${bg_pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	cg_cleanup_all
	if [[ -n ${RESCUE_KEEP:-} ]]; then
		echo "# files kept in $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
MiB=$((1 << 20))
limit=$((256 * MiB))
runs=${RESCUE_RUNS:-20}
free_runs=${RESCUE_FREE_RUNS:-10}
burst=$WORKLOAD_DIR/burst
oomwait=$WORKLOAD_DIR/oomwait
hold=$WORKLOAD_DIR/hold
# A failing test stops repeating after this many bad runs, so that a broken
# build fails in seconds rather than minutes.
max_bad=${RESCUE_MAX_BAD:-3}

self=$(cg_self_memdir 2>/dev/null)
if [[ -z $self || ! -w $self || $(cg_version "$self") != 1 ]]; then
	t_skip "rescue on cgroup v1" "needs root and a v1 memory cgroup (no freeze on v2)"
	t_summary
	exit
fi

# Under AddressSanitizer mlockall() is a no-op (the runtime intercepts
# it) and the shadow memory of oomguard's own stack and heap faults in as
# it goes: an instrumented oomguard inside a frozen cgroup can freeze with
# it. The tests with oomguard inside the cgroup are then skipped; those
# with oomguard outside it (T5, T7) still run.
default_tests="0 1 2 3 5 6 7"
t_skip_unlocked "T0-T4, T6" && default_tests="5 7"

# want N: whether test N is to run (RESCUE_TESTS, a list such as "1 3";
# T4 comes with T1).
want() {
	[[ " ${RESCUE_TESTS:-$default_tests} " == *" $1 "* ]]
}

# until_grep FILE PATTERN SECS: wait for an extended regexp in FILE.
until_grep() {
	local deadline=$((SECONDS + $3))
	while ((SECONDS <= deadline)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# iso_ms TIME: milliseconds since the epoch of an ISO-8601 UTC time.
iso_ms() {
	date -u -d "$1" +%s%3N
}

# rescue_lines LOG: print "MS ACTION PID LEVEL" for each rescue line in
# oomguard's log, text or JSON; MS is its time in epoch milliseconds, ACTION
# the first signal name in a text message. Return 1 if there is none.
rescue_lines() {
	local line ts action pid level rest found=1
	while IFS= read -r line; do
		found=0
		if [[ $line == \{* ]]; then
			IFS=$'\t' read -r ts action pid level < <(jq -r '[.ts // .time, .action, .pid, .severity // ""] | @tsv' <<<"$line")
			# Without "severity", the log level is the first "level"
			# key (an action's own "level" comes later).
			[[ -n $level ]] || level=$(grep -oE '"level":"[a-z]+"' <<<"$line" | head -1 | cut -d'"' -f4)
			[[ $(jq -r '.msg' <<<"$line") == rescue:* ]] || level="msg-not-rescue"
		else
			read -r ts level rest <<<"$line"
			action=$(grep -oE 'SIG[A-Z0-9]+' <<<"$rest" | head -1)
			pid=$(grep -oE 'pid [0-9]+' <<<"$rest" | head -1)
			pid=${pid#pid }
		fi
		printf '%s %s %s %s\n' "$(iso_ms "$ts")" "${action:--}" "${pid:--}" "${level:--}"
	done < <(grep -E '^\{.*"event":"rescue"|^[0-9]{4}-[0-9-]+T[0-9:.]+Z [a-z]+ +rescue:' "$1")
	return $found
}

# rescue_line LOG: the first of rescue_lines.
rescue_line() {
	local first
	first=$(rescue_lines "$1" | head -1)
	[[ -n $first ]] && printf '%s\n' "$first"
}

# first_oom FILE: "MONO_USEC REAL_USEC" of oomwait's first freeze line. Its
# under_oom is not looked at: it is read after the wake-up, and a rescue can
# be over by then (under_oom 0); only a freeze (or the cgroup's removal,
# which oomwait reports as "gone") fires the eventfd.
first_oom() {
	awk '$1 == "oom" { print $2, $3; exit }' "$1"
}

# summary FILE UNIT: "n N, min A, p50 B, p90 C, max D UNIT" of the numbers in FILE.
summary() {
	sort -n "$1" | awk -v u="$2" '{ v[NR] = $1 } END {
		if (NR == 0) { print "none"; exit }
		printf "n %d, min %d, p50 %d, p90 %d, max %d %s\n", NR, v[1],
			v[int((NR - 1) * 0.5) + 1], v[int((NR - 1) * 0.9) + 1], v[NR], u }'
}

# start_oomwait DIR FILE: oomwait on DIR, its lines in FILE; sets OOMWAIT_PID.
# It runs with a real-time priority where it can: on a loaded machine its
# wake-up at the freeze would otherwise come tens of milliseconds late.
start_oomwait() {
	"${rt[@]}" "$oomwait" "$1" >"$2" 2>&1 &
	OOMWAIT_PID=$!
	bg_pids+=("$OOMWAIT_PID")
	until_grep "$2" '^ready' 5 || {
		echo "oomwait did not start: $(cat "$2")" >&2
		return 1
	}
}

# stop_oomwait: oomwait ends by itself when its cgroup is removed ("gone");
# make sure of it.
stop_oomwait() {
	local i
	for ((i = 0; i < 20; i++)); do
		kill -0 "$OOMWAIT_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$OOMWAIT_PID" 2>/dev/null
	wait "$OOMWAIT_PID" 2>/dev/null
}

rt=()
chrt -f 10 true 2>/dev/null && rt=(chrt -f 10)

# in_cgroup_nopsi: a command line prefix that moves itself into the cgroup
# directory that follows it and execs the rest (for t_timeout, which needs an
# executable, not a function), in a private mount namespace where the memory
# pressure files oomguard would read ("psi file" in oomguard probe, and the
# system-wide one it falls back to) are /dev/null, as on a kernel without
# PSI. Then oomguard cannot rescue a moment before the freeze (it needs the
# full stall time to grow), and each rescue is one of a frozen cgroup.
psi_files=$("$OOMGUARD" probe 2>/dev/null | awk '/^psi file:/ { print $3 }')
[[ -e /proc/pressure/memory && " $psi_files " != *" /proc/pressure/memory "* ]] &&
	psi_files+=" /proc/pressure/memory"
export PSI_FILES=$psi_files
hide_psi='for f in $PSI_FILES; do mount --bind /dev/null "$f" || exit 125; done'
# Whether that works: oomguard probe then names no pressure file. Where it
# does not, nothing is hidden (and T1 takes a rescue just before the freeze
# as one).
probe_nopsi=$(unshare -m sh -c "$hide_psi"'
	exec "$0" probe' "$OOMGUARD" 2>/dev/null)
psi_hidden=no
if grep -q '^cgroup:' <<<"$probe_nopsi" && ! grep -qE '^psi file: +/' <<<"$probe_nopsi"; then
	psi_hidden=yes
else
	hide_psi=:
fi
in_cgroup_nopsi=(unshare -m sh -c "$hide_psi"'
	echo $$ >"$0/cgroup.procs" && exec "$@"')

# show_run TITLE TAG: oomguard's log, the app's and oomwait's lines, as
# comments on stderr, for a run that went wrong.
show_run() {
	{
		echo "# --- $1: oomguard's log:"
		sed 's/^/#   /' "$tmp/$2.log" | tail -15
		echo "# --- the app's and oomwait's lines:"
		sed 's/^/#   /' "$tmp/$2.out" "$tmp/$2.oom" | head -20
	} >&2
}

# joined ITEMS...: the items joined with "; ".
joined() {
	local IFS=$'\x1f'
	local s="$*"
	printf '%s\n' "${s//$'\x1f'/; }"
}

# ---------------------------------------------------------------------------
# T0, the control, without oomguard: burst freezes its cgroup; a SIGTERM it
# handles stays pending while it is frozen; 16 MiB freed in the cgroup by
# another process (what a rescue does) wakes it into the handler.
if want 0; then
	tag=t0
	dir=$(cg_create "og-rs-$tag-$$" $limit oom_disable) || exit 1
	start_oomwait "$dir" "$tmp/$tag.oom" || exit 1
	cg_spawn "$dir" "$hold" 16 >"$tmp/$tag.hold"
	holder=$CG_PID
	bg_pids+=("$holder")
	until_grep "$tmp/$tag.hold" '^ready' 5
	cg_spawn "$dir" "$burst" --term exit:42 >"$tmp/$tag.out"
	app=$CG_PID
	why=()
	if cg_wait_frozen "$dir" 15; then
		read -r _ start _ < <(grep -m1 '^start ' "$tmp/$tag.out")
		read -r oom_mono _ <<<"$(first_oom "$tmp/$tag.oom")"
		kill -TERM "$app"
		sleep 1
		state=$(awk '{ print $3 }' "/proc/$app/stat" 2>/dev/null)
		[[ $state == D ]] || why+=("the app is in state '${state:-gone}' 1 s after SIGTERM, not D")
		grep -q '^handler' "$tmp/$tag.out" && why+=("the handler ran while frozen")
		[[ $(cg_under_oom "$dir") == 1 ]] || why+=("under_oom is 0 1 s after SIGTERM")
		kill -KILL "$holder"
		wait "$holder" 2>/dev/null
		deadline=$((SECONDS + 5))
		while kill -0 "$app" 2>/dev/null && ((SECONDS < deadline)); do
			sleep 0.05
		done
		wait "$app"
		rc=$?
		((rc == 42)) || why+=("exit $rc after 16 MiB were freed, not 42")
		grep -q '^handler SIGTERM' "$tmp/$tag.out" || why+=("the handler did not run after 16 MiB were freed")
	else
		why+=("burst did not freeze its cgroup within 15 s")
	fi
	cg_destroy "$dir"
	stop_oomwait
	if ((${#why[@]} == 0)); then
		t_pass "T0 control without oomguard: frozen after $(((oom_mono - start) / 1000)) ms, SIGTERM pending, 16 MiB freed by another process woke the handler (exit 42)"
	else
		t_fail "T0 control without oomguard" "$(joined "${why[@]}")"
		show_run "T0" "$tag"
	fi
fi

# ---------------------------------------------------------------------------
# T1 and T4: rescue by SIGTERM, RESCUE_RUNS times. The rescue time is the
# handler's moment minus the freeze's, as oomwait saw it ("oom") and as the
# app's last page write before the handler dates it ("touch", earlier by the
# kernel's reclaim attempts).
if want 1; then
	t1_bad=() t1_each=() t4_bad=() t1_froze=0 t1_early=0
	: >"$tmp/t1.oom" && : >"$tmp/t1.touch" && : >"$tmp/t1.freeze" && : >"$tmp/t4.ms"
	for ((i = 1; i <= runs; i++)); do
		if ((${#t1_bad[@]} >= max_bad)); then
			t1_bad+=("stopped after $max_bad bad runs of $((i - 1))")
			break
		fi
		tag=t1-$i fmt=text
		((i % 2 == 0)) && fmt=json
		dir=$(cg_create "og-rs-$tag-$$" $limit oom_disable) || exit 1
		start_oomwait "$dir" "$tmp/$tag.oom" || exit 1
		OOMGUARD_SUPERVISE_RESTART=never t_timeout 10 "${in_cgroup_nopsi[@]}" "$dir" \
			"$OOMGUARD" --kill-at none --grace 3s --log-format $fmt -- "$burst" --term exit:42 \
			>"$tmp/$tag.out" 2>"$tmp/$tag.log"
		rc=$?
		cg_destroy "$dir"
		stop_oomwait

		why=()
		read -r _ start _ _ app < <(grep -m1 '^start ' "$tmp/$tag.out")
		read -r _ _ handler _ _ _ _ touch < <(grep -m1 '^handler SIGTERM ' "$tmp/$tag.out")
		read -r oom_mono oom_real <<<"$(first_oom "$tmp/$tag.oom")"
		((rc == 124)) && why+=("hung (killed after 10s)")
		((rc != 124 && rc != 42)) && why+=("exit $rc")
		if [[ -n $oom_mono ]]; then
			t1_froze=$((t1_froze + 1))
		elif [[ $psi_hidden == yes ]]; then
			why+=("no freeze seen (a level caught the burst first?)")
		elif grep -q 'rescue: the cgroup is about to freeze' "$tmp/$tag.log"; then
			t1_early=$((t1_early + 1))
		fi
		[[ -z ${handler:-} ]] && why+=("the SIGTERM handler never ran")
		grep -q 'reserve: holding' "$tmp/$tag.log" || why+=("no 'reserve: holding' line")
		if read -r r_ms r_action r_pid r_level < <(rescue_line "$tmp/$tag.log"); then
			[[ $r_action == SIGTERM && $r_pid == "${app:-}" && $r_level == warn ]] ||
				why+=("the rescue line ($fmt) says $r_action to pid $r_pid at level $r_level; the app is pid ${app:-?}")
			if [[ $fmt == json ]] && ! grep -m1 '"event":"rescue"' "$tmp/$tag.log" |
				jq -e '(.pid | numbers) and (.msg | startswith("rescue:"))' >/dev/null; then
				why+=("the JSON rescue line lacks a numeric pid or a msg starting 'rescue:'")
			fi
			if [[ -n $oom_real ]]; then
				d=$((r_ms - oom_real / 1000))
				echo "$d" >>"$tmp/t4.ms"
			fi
		else
			why+=("no rescue line in the log")
			t4_bad+=("run $i: no rescue line")
		fi
		[[ -n $oom_mono && -n ${start:-} ]] && echo $(((oom_mono - start) / 1000)) >>"$tmp/t1.freeze"
		if [[ -n ${handler:-} ]]; then
			if [[ -n $oom_mono ]]; then
				echo $((handler - oom_mono)) >>"$tmp/t1.oom"
				t1_each+=("$((handler - oom_mono))")
			else
				t1_each+=(-)
			fi
			echo $((handler - touch)) >>"$tmp/t1.touch"
		fi
		if ((${#why[@]})); then
			t1_bad+=("run $i ($fmt): $(joined "${why[@]}")")
			show_run "T1 run $i" "$tag"
		fi
	done
	if [[ $psi_hidden == yes ]]; then
		echo "# T1 the pressure files hidden from oomguard ($PSI_FILES): $t1_froze runs froze"
	else
		echo "# T1 could not hide the pressure files from oomguard: $t1_froze runs froze, $t1_early were rescued just before"
	fi
	echo "# T1 start -> freeze (ms): $(summary "$tmp/t1.freeze" ms)"
	echo "# T1 freeze (oomwait) -> SIGTERM handler: $(summary "$tmp/t1.oom" usec)"
	echo "# T1 freeze (last write) -> SIGTERM handler: $(summary "$tmp/t1.touch" usec)"
	echo "# T1 each run, freeze (oomwait) -> handler (usec): ${t1_each[*]:-none}"
	if ((${#t1_bad[@]} == 0)); then
		t_pass "T1 rescue by SIGTERM: $runs/$runs were rescued and exited 42 ($t1_froze after freezing); none hung"
	else
		t_fail "T1 rescue by SIGTERM" "${#t1_bad[@]} bad: $(joined "${t1_bad[@]}")"
	fi
	echo "# T4 freeze (oomwait) -> oomguard's rescue line (ms): $(summary "$tmp/t4.ms" ms)"
	if ((${#t4_bad[@]} == 0 && t1_froze == 0)); then
		t_skip "T4 a rescue line for each freeze" "no run froze (all were rescued before)"
	elif ((${#t4_bad[@]} == 0)); then
		t_pass "T4 oomguard answers while frozen: a rescue line for each of $t1_froze freezes (the latest $(sort -n "$tmp/t4.ms" | tail -1) ms after it)"
	else
		t_fail "T4 a rescue line for each freeze" "$(joined "${t4_bad[@]:-no measurement}")"
	fi
fi

# ---------------------------------------------------------------------------
# T2: rescue by SIGUSR1; the app frees and lives on. The gc level is above
# the limit, so that only a freeze reaches it: at 100% the usage could sit
# exactly at the limit for a few milliseconds before the task parks, and the
# ordinary gc request would then come before the freeze.
if want 2; then
	t2_bad=() t2_retake=0 t2_done=0 t2_froze=0
	: >"$tmp/t2.touch"
	for ((i = 1; i <= free_runs; i++)); do
		if ((${#t2_bad[@]} >= max_bad)); then
			t2_bad+=("stopped after $max_bad bad runs of $((i - 1))")
			break
		fi
		tag=t2-$i
		# Odd runs hide the pressure files from oomguard: a frozen
		# cgroup's rescue; even runs as they come.
		nopsi=()
		((i % 2 == 1)) && [[ $psi_hidden == yes ]] &&
			nopsi=(unshare -m sh -c "$hide_psi"' && exec "$@"' sh)
		dir=$(cg_create "og-rs-$tag-$$" $limit oom_disable) || exit 1
		start_oomwait "$dir" "$tmp/$tag.oom" || exit 1
		cg_spawn "$dir" "${nopsi[@]}" "$OOMGUARD" --gc-at $((limit + MiB))B --restart-at none \
			--kill-at none -- "$burst" --usr1 free >"$tmp/$tag.out" 2>"$tmp/$tag.log"
		ogpid=$CG_PID
		bg_pids+=("$ogpid")
		why=()
		# The handler line, or the app's end, whichever comes first.
		deadline=$((SECONDS + 10))
		while ((SECONDS < deadline)); do
			grep -q '^handler SIGUSR1' "$tmp/$tag.out" && break
			grep -qE 'the app \(pid [0-9]+\) (exited|was killed)' "$tmp/$tag.log" && break
			kill -0 "$ogpid" 2>/dev/null || break
			sleep 0.05
		done
		if grep -q '^handler SIGUSR1' "$tmp/$tag.out"; then
			sleep 3
			read -r _ _ _ _ app < <(grep -m1 '^start ' "$tmp/$tag.out")
			read -r _ _ handler _ _ _ _ freed _ touch < <(grep -m1 '^handler SIGUSR1 ' "$tmp/$tag.out")
			alive=$(awk -v h="$handler" '$1 == "alive" && $2 > h' "$tmp/$tag.out" | wc -l)
			kill -0 "$app" 2>/dev/null || why+=("the app (pid $app) is gone 3 s after its handler")
			((alive >= 2)) || why+=("$alive 'alive' lines in the 3 s after the handler")
			((freed > 0)) || why+=("the handler freed nothing")
			[[ $(cg_under_oom "$dir") == 0 ]] || why+=("the cgroup is frozen at the end")
			grep -qE 'the app \(pid [0-9]+\) (exited|was killed)' "$tmp/$tag.log" &&
				why+=("$(grep -m1 -E 'the app \(pid [0-9]+\) (exited|was killed)' "$tmp/$tag.log")")
			if [[ -n $(first_oom "$tmp/$tag.oom") ]]; then
				t2_froze=$((t2_froze + 1))
			elif ((${#nopsi[@]})); then
				why+=("no freeze seen, with the pressure files hidden")
			fi
			echo $((handler - touch)) >>"$tmp/t2.touch"
			if read -r _ r_action r_pid _ < <(rescue_line "$tmp/$tag.log"); then
				[[ $r_action == SIGUSR1 && $r_pid == "$app" ]] ||
					why+=("the rescue line says $r_action to pid $r_pid; the app is pid $app")
			else
				why+=("no rescue line")
			fi
			grep -q 'reserve: holding .*again' "$tmp/$tag.log" && t2_retake=$((t2_retake + 1))
		else
			why+=("no SIGUSR1 handler line: $(grep -m1 -E 'the app \(pid [0-9]+\) (exited|was killed)' "$tmp/$tag.log" ||
				echo "the app is still frozen after 10 s")")
		fi
		t2_done=$((t2_done + 1))
		kill -TERM "$ogpid" 2>/dev/null
		cg_destroy "$dir"
		wait "$ogpid" 2>/dev/null
		stop_oomwait
		if ((${#why[@]})); then
			t2_bad+=("run $i: $(joined "${why[@]}")")
			show_run "T2 run $i" "$tag"
		fi
	done
	echo "# T2 the app's last page write -> SIGUSR1 handler: $(summary "$tmp/t2.touch" usec)"
	if ((${#t2_bad[@]} == 0)); then
		t_pass "T2 rescue by SIGUSR1: $free_runs/$free_runs were rescued ($t2_froze after freezing, every other run with the pressure files hidden), freed, and ran on for 3 s unfrozen"
	else
		t_fail "T2 rescue by SIGUSR1" "${#t2_bad[@]} bad: $(joined "${t2_bad[@]}")"
	fi
	if ((t2_done > 0 && t2_retake == t2_done)); then
		t_pass "T2 the reserve is taken back once the app has freed memory ($t2_retake/$t2_done)"
	else
		t_fail "T2 reserve taken back" "'reserve: holding ... again' in $t2_retake of $t2_done runs"
	fi
fi

# ---------------------------------------------------------------------------
# T3: no handlers: the rescue sends SIGKILL, the app is restarted, freezes
# again and is rescued again (which needs the reserve taken back).
if want 3; then
	tag=t3
	dir=$(cg_create "og-rs-$tag-$$" $limit oom_disable) || exit 1
	start_oomwait "$dir" "$tmp/$tag.oom" || exit 1
	OOMGUARD_SUPERVISE_RESTART_DELAY=500ms cg_spawn "$dir" "$OOMGUARD" --kill-at none -- "$burst" \
		>"$tmp/$tag.out" 2>"$tmp/$tag.log"
	ogpid=$CG_PID
	bg_pids+=("$ogpid")
	deadline=$((SECONDS + 15))
	while ((SECONDS < deadline)); do
		(($(grep -c 'started .* as pid' "$tmp/$tag.log") >= 3)) && break
		kill -0 "$ogpid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$ogpid" 2>/dev/null
	cg_destroy "$dir"
	wait "$ogpid" 2>/dev/null
	stop_oomwait
	mapfile -t pids < <(awk '$1 == "start" { print $5 }' "$tmp/$tag.out")
	freezes=$(grep -c '^oom ' "$tmp/$tag.oom")
	starts=$(grep -c 'started .* as pid' "$tmp/$tag.log")
	mapfile -t rescues < <(rescue_lines "$tmp/$tag.log")
	kills=$(printf '%s\n' "${rescues[@]}" | awk '$2 == "SIGKILL"' | wc -l)
	read -r _ r_action r_pid _ <<<"${rescues[0]:-}"
	why=()
	[[ ${r_action:-} == SIGKILL && ${r_pid:-} == "${pids[0]:-none}" ]] ||
		why+=("the first rescue sent ${r_action:-nothing} to pid ${r_pid:-none}; the app was pid ${pids[0]:-none}")
	grep -qE "the app \(pid ${pids[0]:-none}\) was killed by signal 9" "$tmp/$tag.log" ||
		why+=("no 'the app (pid ${pids[0]:-none}) was killed by signal 9'")
	grep -q 'restarting the app' "$tmp/$tag.log" || why+=("no 'restarting the app'")
	((starts >= 2)) || why+=("$starts 'started ... as pid' lines")
	if ((${#why[@]} == 0)); then
		t_pass "T3 no handler: frozen, rescued with SIGKILL, restarted (on-watchdog)"
	else
		t_fail "T3 SIGKILL and restart" "$(joined "${why[@]}")"
		show_run "T3" "$tag"
	fi
	if ((kills >= 2)); then
		t_pass "T3 the restarted app was rescued again, the reserve retaken ($kills SIGKILL rescues, $freezes freezes)"
	else
		t_fail "T3 second rescue" "$kills SIGKILL rescues in $freezes freezes, $starts starts"
	fi
fi

# ---------------------------------------------------------------------------
# T5: PID reuse. Each case runs as PID 1 of a new PID namespace, where only
# the test forks, so that /proc/sys/kernel/ns_last_pid puts a new process on
# a chosen PID, and where everything left ends with the namespace.
#
# t5_case MODE DIR OUT: MODE control (the target stays), sidecar (--pid P
# exits), entrypoint (the app exits, no restart yet). Files in OUT.
t5_case() {
	local mode=$1 dir=$2 out=$3 P og i o mib
	set +m
	source "$ROOT/tests/lib/cgroup.sh"
	# until: wait up to 10 s for a regexp in a file.
	until_in() {
		local k
		for ((k = 0; k < 200; k++)); do
			grep -qE -- "$2" "$1" 2>/dev/null && return 0
			sleep 0.05
		done
		return 1
	}
	if [[ $mode == entrypoint ]]; then
		OOMGUARD_SUPERVISE_RESTART=always OOMGUARD_SUPERVISE_RESTART_DELAY=60s \
			cg_spawn "$dir" "$OOMGUARD" --grace 60s -- "$W/spawner" trap 1 >"$out/target.out" 2>"$out/og.log"
		og=$CG_PID
		until_in "$out/og.log" 'started .* as pid [0-9]+' || { echo "no start line" >"$out/error"; return; }
		P=$(grep -m1 -oE 'as pid [0-9]+' "$out/og.log" | grep -oE '[0-9]+$')
		# spawner trap 1 exits 1 after a second; oomguard reaps it and
		# waits 60 s before the restart.
		until_in "$out/og.log" "the app \(pid $P\) exited" || { echo "app $P did not exit" >"$out/error"; return; }
	else
		cg_spawn "$dir" "$W/spawner" trap >"$out/target.out"
		P=$CG_PID
		until_in "$out/target.out" '^ready' || { echo "target not ready" >"$out/error"; return; }
		OOMGUARD_RESTART_STARTUP=0 "$OOMGUARD" --cgroup "$dir" --pid "$P" --grace 60s 2>"$out/og.log" &
		og=$!
		until_in "$out/og.log" 'watching ' || { echo "oomguard did not start: $(cat "$out/og.log")" >"$out/error"; return; }
		if [[ $mode == sidecar ]]; then
			local before
			before=$(wc -l <"$out/og.log")
			kill -KILL "$P"
			wait "$P" 2>/dev/null
			# oomguard is to say that its main target ended.
			for ((i = 0; i < 40; i++)); do
				tail -n +$((before + 1)) "$out/og.log" | grep -E "pid $P\b" >"$out/ended" && break
				sleep 0.05
			done
		fi
	fi
	echo "$P" >"$out/pid"
	if [[ $mode != control ]]; then
		# A newcomer outside the cgroup on PID P.
		for ((i = 0; i < 20; i++)); do
			echo $((P - 1)) >/proc/sys/kernel/ns_last_pid
			"$W/spawner" trap >"$out/outsider.out" &
			o=$!
			[[ $o == "$P" ]] && break
			kill -KILL "$o"
			wait "$o" 2>/dev/null
		done
		if [[ $o != "$P" ]]; then
			echo "could not get a process onto pid $P (got $o)" >"$out/error"
			return
		fi
		until_in "$out/outsider.out" '^ready'
		grep memory /proc/"$o"/cgroup >"$out/outsider.cgroup"
	fi
	# Push the cgroup to 92% of its limit (over gc 75% and restart 90%,
	# below kill 97%) with a process that ignores the gc and restart signals.
	mib=$(((LIMIT * 92 / 100 - $(cat "$dir/memory.usage_in_bytes")) >> 20))
	cg_spawn "$dir" sh -c 'trap "" USR1 TERM; exec "$0" "$1"' "$W/hold" "$mib" >"$out/hold.out"
	until_in "$out/hold.out" '^ready'
	cat "$dir/memory.usage_in_bytes" >"$out/usage"
	# Long enough for a gc request, its cooldown (1 s) and the restart.
	sleep 3.5
	if [[ $mode != control ]]; then
		kill -0 "$o" 2>/dev/null && echo alive >"$out/outsider.state" || echo gone >"$out/outsider.state"
	fi
	kill -TERM "$og" 2>/dev/null
	sleep 0.5
}
export -f t5_case
t5_run() { # MODE: run t5_case in a new PID namespace; files in $tmp/t5-MODE
	local mode=$1 dir out=$tmp/t5-$1
	mkdir -p "$out"
	dir=$(cg_create "og-rs-t5-$mode-$$" $limit) || exit 1
	ROOT=$root W=$WORKLOAD_DIR LIMIT=$limit OOMGUARD=$OOMGUARD \
		t_timeout 40 unshare --pid --fork --mount-proc bash -c 't5_case "$@"' t5 "$mode" "$dir" "$out" \
		>"$out/stdout" 2>&1
	echo $? >"$out/rc"
	echo "$dir" >"$out/dir"
	cg_destroy "$dir"
}

# t5_show MODE: what a T5 case left, as comments on stderr.
t5_show() {
	local f
	for f in og.log stdout target.out outsider.out; do
		[[ -s $tmp/t5-$1/$f ]] || continue
		echo "# --- T5 $1: $f:"
		sed 's/^/#   /' "$tmp/t5-$1/$f" | tail -15
	done >&2
}

if want 5; then
	t5_run control
	out=$tmp/t5-control
	P=$(cat "$out/pid" 2>/dev/null)
	got=$(grep '^SIG' "$out/target.out" 2>/dev/null | tr '\n' ' ')
	if [[ ! -e $out/error && -n $P ]] && grep -q '^SIGUSR1' "$out/target.out" &&
		grep -qE "SIGUSR1 to pid $P: sent" "$out/og.log"; then
		t_pass "T5 control: the same push signals a live --pid target (it got: $got)"
	else
		t_fail "T5 control" "$(cat "$out/error" 2>/dev/null) usage $(($(cat "$out/usage" 2>/dev/null || echo 0) >> 20)) MiB; the target got: ${got:-nothing}"
		t5_show control
	fi

	for mode in sidecar entrypoint; do
		t5_run $mode
		out=$tmp/t5-$mode
		P=$(cat "$out/pid" 2>/dev/null)
		why=()
		[[ -e $out/error ]] && why+=("$(cat "$out/error")")
		[[ -z $P ]] && why+=("no target pid")
		[[ $(cat "$out/rc") == 124 ]] && why+=("hung")
		[[ -n $P ]] && grep -qE "to pid $P\b" "$out/og.log" &&
			why+=("oomguard signalled pid $P: $(grep -E "to pid $P\b" "$out/og.log" | head -3)")
		[[ $mode == sidecar && ! -s $out/ended ]] && why+=("oomguard did not log the end of its target (pid $P)")
		if [[ -s $out/outsider.out ]]; then
			grep -q '^SIG' "$out/outsider.out" &&
				why+=("the newcomer on pid $P got: $(grep '^SIG' "$out/outsider.out" | tr '\n' ' ')")
			[[ $(cat "$out/outsider.state" 2>/dev/null) == alive ]] ||
				why+=("the newcomer on pid $P did not survive")
			grep -q "$(basename "$(cat "$out/dir")")" "$out/outsider.cgroup" 2>/dev/null &&
				why+=("the newcomer is in the cgroup")
		else
			why+=("no newcomer ran")
		fi
		usage=$(cat "$out/usage" 2>/dev/null || echo 0)
		((usage >= limit * 90 / 100)) || why+=("the push reached only $((usage >> 20)) MiB")
		if ((${#why[@]} == 0)); then
			t_pass "T5 PID reuse ($mode): the newcomer on pid $P outside the cgroup got nothing at $((usage * 100 / limit))% of the limit"
		else
			t_fail "T5 PID reuse ($mode)" "$(joined "${why[@]}")"
			t5_show $mode
		fi
	done
fi

# ---------------------------------------------------------------------------
# T6: an app started into a cgroup that is already nearly full (another
# process holds 92% of it, over the gc and restart levels) freezes it within
# milliseconds of its start. oomguard is to hold its reserve from its own
# start ("at start oomguard maps and touches that much memory"), before the
# app runs: taken later it would miss this freeze, or freeze oomguard itself.
if want 6; then
	t6_bad=()
	for ((i = 1; i <= 3 && ${#t6_bad[@]} == 0; i++)); do
		tag=t6-$i
		dir=$(cg_create "og-rs-$tag-$$" $limit oom_disable) || exit 1
		cg_spawn "$dir" "$hold" $((limit * 92 / 100 / MiB)) >"$tmp/$tag.hold"
		bg_pids+=("$CG_PID")
		until_grep "$tmp/$tag.hold" '^ready' 10
		start_oomwait "$dir" "$tmp/$tag.oom" || exit 1
		OOMGUARD_SUPERVISE_RESTART=never t_timeout 10 "${in_cgroup_nopsi[@]}" "$dir" \
			"$OOMGUARD" --kill-at none --grace 3s -- "$burst" --term exit:42 \
			>"$tmp/$tag.out" 2>"$tmp/$tag.log"
		rc=$?
		cg_destroy "$dir"
		stop_oomwait
		why=()
		((rc == 42)) || why+=("exit $rc")
		[[ -n $(first_oom "$tmp/$tag.oom") ]] || why+=("no freeze seen")
		rescue_line "$tmp/$tag.log" >/dev/null || why+=("no rescue line")
		# The reserve is to be held before the app's start line.
		first=$(grep -m1 -nE 'reserve: (holding|none)|started .* as pid' "$tmp/$tag.log")
		[[ $first == *reserve:* ]] || why+=("the app was started before the reserve was held")
		if ((${#why[@]})); then
			t6_bad+=("run $i: $(joined "${why[@]}")")
			show_run "T6 run $i" "$tag"
		fi
	done
	if ((${#t6_bad[@]} == 0)); then
		t_pass "T6 an app that freezes a nearly full cgroup at once is rescued (3/3): the reserve is held from the start"
	else
		t_fail "T6 reserve held from the start" "$(joined "${t6_bad[@]}")"
	fi
fi
# T7: the sidecar's rescue by the limit.
if want 7; then
	t7_bad=()
	for i in 1 2 3; do
		tag=t7-$i
		dir=$(cg_create "og-rs-$tag-$$" $limit oom_disable) || exit 1
		cg_spawn "$dir" "$burst" --term exit:42 >"$tmp/$tag.out"
		app=$CG_PID
		bg_pids+=("$app")
		"$OOMGUARD" --cgroup "$dir" --pid "$app" --kill-at none --restart-at 99.9% \
			>/dev/null 2>"$tmp/$tag.log" &
		og=$!
		bg_pids+=("$og")
		until_grep "$tmp/$tag.log" 'reserve: limit put back' 8
		kill -TERM "$og" 2>/dev/null
		wait "$og"
		why=()
		grep -q 'reserve: holding .*(the limit is raised by it for a rescue)' "$tmp/$tag.log" ||
			why+=("no limit-mode reserve")
		grep -q "rescue: .*SIGTERM to pid $app (sent), then released" "$tmp/$tag.log" ||
			why+=("no rescue by SIGTERM")
		# The handler's own exit code is the proof; its line is a write to a
		# file, charged to the cgroup, that can still fail there.
		for _ in $(seq 50); do kill -0 "$app" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$app" 2>/dev/null
		wait "$app"
		rc=$?
		((rc == 42)) || why+=("the handler did not run (burst exited $rc, not its handler's 42)")
		grep -q '^handler SIGTERM' "$tmp/$tag.out" ||
			echo "# T7 run $i: burst exited $rc, its handler's line did not reach its file"
		grep -q 'reserve: limit put back' "$tmp/$tag.log" || why+=("the limit not put back")
		lim=$(cat "$dir/memory.limit_in_bytes")
		memsw=$(cat "$dir/memory.memsw.limit_in_bytes" 2>/dev/null || echo "$limit")
		((lim == limit && memsw == limit)) || why+=("limits now $lim/$memsw")
		cg_destroy "$dir"
		if ((${#why[@]})); then
			t7_bad+=("run $i: $(joined "${why[@]}")")
			show_run "T7 run $i" "$tag"
		fi
	done
	if ((${#t7_bad[@]} == 0)); then
		t_pass "T7 a sidecar rescues by raising the limit (3/3): the handler ran, limit and memsw put back"
	else
		t_fail "T7 rescue by the limit" "$(joined "${t7_bad[@]}")"
	fi
fi
t_summary
