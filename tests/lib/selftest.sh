#!/bin/bash
# selftest.sh: exercise tests/lib/{cgroup,testlib}.sh and the test workloads
# (tests/workload/gcsim.c, spawner.c) against the real kernel.
#
# Usage: tests/lib/selftest.sh
#
# Uses the binaries in ${WORKLOAD_DIR:-build/workload}; when they are
# missing, compiles tests/workload/*.c into a temporary directory with cc.
# The cgroup tests need root and a memory cgroup; they skip (with the
# reason) otherwise, and the v1-only ones (oom_kill_disable) skip on v2.
# Takes about 15 s. The last line is "N passed, N failed, N skipped"; the
# exit status is 0 only if nothing failed.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=testlib.sh
. "$here/testlib.sh"
# shellcheck source=cgroup.sh
. "$here/cgroup.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oomguard-selftest.XXXXXX") || exit 1
trap 'cg_cleanup_all; rm -rf "$tmp" "$(_t_results)"' EXIT

# The limit used for the freeze tests, and what gcsim's defaults do in it.
LIMIT_BYTES=$((256 << 20))
FREEZE_TIMEOUT_SEC=20

# find_workloads: set GCSIM and SPAWNER, compiling them if needed.
find_workloads() {
	local bin=${WORKLOAD_DIR:-$root/build/workload} name
	if [[ -x $bin/gcsim && -x $bin/spawner ]]; then
		GCSIM=$bin/gcsim SPAWNER=$bin/spawner
		return 0
	fi
	for name in gcsim spawner; do
		"${CC:-cc}" -O2 -Wall -Wextra -o "$tmp/$name" \
			"$root/tests/workload/$name.c" 2>"$tmp/cc.err" || {
			cat "$tmp/cc.err" >&2
			return 1
		}
	done
	GCSIM=$tmp/gcsim SPAWNER=$tmp/spawner
}

# wait_caught PID SIGNUM: wait up to 5 s until PID has a handler for
# SIGNUM (its SigCgt bit). Sending gcsim SIGUSR1 before that kills it.
# cg_spawn returned after the exec, so the bit is gcsim's own, not the
# handler bash had in the child before the exec.
wait_caught() {
	local pid=$1 bit=$(($2 - 1)) key mask i
	for ((i = 0; i < 500; i++)); do
		while read -r key mask; do
			[[ $key == SigCgt: ]] || continue
			(((16#$mask >> bit) & 1)) && return 0
		done <"/proc/$pid/status" 2>/dev/null
		sleep 0.01
	done
	return 1
}

# proc_state PID: print PID's one-letter state, nothing if it is gone.
proc_state() {
	local line
	read -r line 2>/dev/null <"/proc/$1/stat" || return 0
	line=${line##*) }
	printf '%s\n' "${line%% *}"
}

test_summary() {
	local out rc

	# In subshells with results files of their own, so that the failure
	# recorded here does not count in this run.
	out=$(
		T_RESULTS=$tmp/t1.results
		t_pass a && t_fail b why && t_skip c why && (t_pass d)
		t_summary
	)
	rc=$?
	if [[ ${out##*$'\n'} == "2 passed, 1 failed, 1 skipped" && $out == *"not ok 2 - b: why"* ]] &&
		((rc == 1)); then
		t_pass "t_summary counts results, from subshells too, and fails on a failure"
	else
		t_fail "t_summary" "status $rc, output: $out"
	fi
	out=$(
		T_RESULTS=$tmp/t2.results
		t_skip c why >/dev/null
		t_summary
	)
	rc=$?
	if [[ $out == "0 passed, 0 failed, 1 skipped" ]] && ((rc == 0)); then
		t_pass "t_summary returns 0 when nothing failed"
	else
		t_fail "t_summary returns 0 when nothing failed" "status $rc, output: $out"
	fi
}

test_testlib() {
	local start rc elapsed_msec pgid_alive

	start=$(_cg_now_usec)
	t_timeout 1 "$SPAWNER" trap 2>/dev/null >"$tmp/hang.out"
	rc=$?
	elapsed_msec=$((($(_cg_now_usec) - start) / 1000))
	# spawner trap exits 0 on SIGTERM: the TERM phase ended it.
	if ((rc == 124 && elapsed_msec < 2500)) && grep -qx SIGTERM "$tmp/hang.out"; then
		t_pass "t_timeout stops a hung command with SIGTERM (${elapsed_msec} ms)"
	else
		t_fail "t_timeout stops a hung command" "rc=$rc after ${elapsed_msec} ms"
	fi

	start=$(_cg_now_usec)
	t_timeout 1 sh -c 'trap "" TERM; sleep 60 & echo $! >'"$tmp/bg.pid"'; sleep 60' 2>/dev/null
	rc=$?
	elapsed_msec=$((($(_cg_now_usec) - start) / 1000))
	sleep 0.1
	pgid_alive=$(proc_state "$(<"$tmp/bg.pid")")
	if ((rc == 124)) && [[ -z $pgid_alive || $pgid_alive == Z ]]; then
		t_pass "t_timeout kills a group that ignores SIGTERM (${elapsed_msec} ms)"
	else
		t_fail "t_timeout kills the whole group" "rc=$rc, background child state '$pgid_alive'"
	fi

	t_timeout 5 "$SPAWNER" exit 3
	rc=$?
	if ((rc == 3)); then
		t_pass "t_timeout returns the command's exit status"
	else
		t_fail "t_timeout returns the command's exit status" "got $rc, want 3"
	fi
}

# The start and end of a test script: t_stop, and cg_test_setup's exit
# trap (the pid in its variable killed, $tmp removed) when cg_need_v1 skips.
test_setup_helpers() {
	local start elapsed_msec out rc t p

	sleep 60 &
	p=$!
	start=$(_cg_now_usec)
	t_stop "$p"
	elapsed_msec=$((($(_cg_now_usec) - start) / 1000))
	if [[ -z $(proc_state "$p") ]] && ((elapsed_msec < 2000)); then
		t_pass "t_stop ends a child with SIGTERM and waits for it (${elapsed_msec} ms)"
	else
		t_fail "t_stop" "pid $p state '$(proc_state "$p")' after ${elapsed_msec} ms"
	fi

	out=$(bash -c 'source "$1/testlib.sh" && source "$1/cgroup.sh" || exit 9
		cg_test_setup app
		[[ -d $tmp && -z $app ]] || exit 8
		sleep 60 &
		app=$!
		echo "$tmp $app"
		CG_PROC=/nonexistent cg_need_v1 "the case" "the reason"
		echo reached' _ "$here" 2>&1)
	rc=$?
	read -r t p <<<"$out"
	sleep 0.1
	if ((rc == 0)) && [[ $out == *"# SKIP the reason"* && $out == *"0 passed, 0 failed, 1 skipped" &&
		$out != *reached* && -n $t && ! -e $t && -n $p && -z $(proc_state "$p") ]]; then
		t_pass "cg_need_v1 skips without v1; the exit trap kills the app and removes \$tmp"
	else
		t_fail "cg_test_setup, cg_need_v1" "exit $rc, output: $out"
		[[ -n $p ]] && kill -KILL "$p" 2>/dev/null
	fi
}

test_spawner() {
	local rc out pid ppid i

	"$SPAWNER" exit 7
	rc=$?
	if ((rc == 7)); then
		t_pass "spawner exit 7"
	else
		t_fail "spawner exit 7" "rc=$rc"
	fi

	# The braces take bash's own "Terminated" report off the output too.
	{ "$SPAWNER" signal TERM; } 2>/dev/null
	rc=$?
	if ((rc == 143)); then
		t_pass "spawner signal TERM"
	else
		t_fail "spawner signal TERM" "rc=$rc"
	fi

	"$SPAWNER" trap 10 >"$tmp/trap.out" &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		[[ -s $tmp/trap.out ]] && break
		sleep 0.01
	done
	kill -HUP "$pid"
	sleep 0.1
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	out=$(tr '\n' ' ' <"$tmp/trap.out")
	if ((rc == 0)) && [[ $out == "ready SIGHUP SIGTERM " ]]; then
		t_pass "spawner trap reports signals and exits 0 on SIGTERM"
	else
		t_fail "spawner trap" "rc=$rc output '$out'"
	fi

	out=$(t_timeout 5 "$SPAWNER" orphan 1)
	pid=${out#orphan }
	ppid=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
	if [[ $out == "orphan "* && -n $ppid && $ppid != "$$" && $ppid != "$BASHPID" ]]; then
		t_pass "spawner orphan is reparented (to $ppid)"
	else
		t_fail "spawner orphan" "output '$out', ppid '$ppid'"
	fi
}

test_self_memdir() {
	local self pid found=0

	if ! self=$(cg_self_memdir); then
		t_fail "cg_self_memdir" "no memory cgroup found"
		return 1
	fi
	while read -r pid; do
		[[ $pid == "$$" ]] && found=1
	done <"$self/cgroup.procs"
	if ((found)); then
		t_pass "cg_self_memdir finds our own cgroup ($self)"
	else
		t_fail "cg_self_memdir" "$self/cgroup.procs does not list our PID $$"
		return 1
	fi
}

# fixture NAME CGROUP_LINES MOUNTINFO_LINES: write a fake /proc under $tmp.
fixture() {
	mkdir -p "$tmp/$1/self"
	printf '%b' "$2" >"$tmp/$1/self/cgroup"
	printf '%b' "$3" >"$tmp/$1/self/mountinfo"
}

# The layouts cg_self_memdir must understand, as fake /proc files.
test_self_memdir_fixtures() {
	local name want got
	local v1='34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n'
	local v2='29 22 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n'
	local uni='40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n'

	fixture hybrid '4:memory:/a/b\n0::/user.slice\n' "$uni$v1"
	fixture pure-v2 '0::/system.slice/x.service\n' "$v2"
	fixture v2-ns-root '0::/\n' "$v2"
	fixture comounted '3:cpu,memory,cpuacct:/c\n' \
		'31 30 0:28 / /cg/cpu,memory rw - cgroup cgroup rw,cpu,memory,cpuacct\n'
	fixture docker-root '4:memory:/docker/abc/sub\n' \
		'34 30 0:31 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup ro,memory\n'
	fixture memory-in-name '4:memory_x:/a\n5:memory:/b\n' \
		'1 0 0:1 / /m/x rw - cgroup cgroup rw,memory_x\n'"$v1"
	fixture space '4:memory:/a\n' \
		'34 30 0:31 / /mnt/with\\040space rw - cgroup cgroup rw,memory\n'
	fixture none '1:cpu:/a\n' "$v1"
	for name in hybrid:/sys/fs/cgroup/memory/a/b \
		pure-v2:/sys/fs/cgroup/system.slice/x.service v2-ns-root:/sys/fs/cgroup \
		comounted:/cg/cpu,memory/c docker-root:/sys/fs/cgroup/memory/sub \
		memory-in-name:/sys/fs/cgroup/memory/b "space:/mnt/with space/a" none:; do
		want=${name#*:}
		name=${name%%:*}
		got=$(CG_PROC=$tmp/$name cg_self_memdir 2>/dev/null)
		if [[ $got == "$want" ]]; then
			t_pass "cg_self_memdir parses the $name layout"
		else
			t_fail "cg_self_memdir parses the $name layout" "got '$got', want '$want'"
		fi
	done
}

test_create_exec() {
	local d rc out want limit=

	if ! d=$(cg_create "selftest-$$-a" "$LIMIT_BYTES" oom_disable); then
		t_fail "cg_create" "see the message above"
		return
	fi
	read -r limit <"$d/memory.limit_in_bytes"
	if [[ -d $d && $limit == "$LIMIT_BYTES" && $(_cg_read_key "$d/memory.oom_control" \
		oom_kill_disable) == 1 ]]; then
		t_pass "cg_create sets the limit and oom_kill_disable"
	else
		t_fail "cg_create" "dir $d, limit '$limit'"
	fi

	if cg_create "selftest-$$-a" "$LIMIT_BYTES" >/dev/null 2>&1; then
		t_fail "cg_create refuses an existing cgroup" "it succeeded"
	else
		t_pass "cg_create refuses an existing cgroup"
	fi

	want=${d#"$(cg_self_memdir)"}
	out=$(cg_exec "$d" cat /proc/self/cgroup)
	if [[ $out == *":memory:"*"$want"* ]]; then
		t_pass "cg_exec runs the command inside the cgroup"
	else
		t_fail "cg_exec" "/proc/self/cgroup of the command: $out"
	fi
	cg_exec "$d" "$SPAWNER" exit 5
	rc=$?
	if ((rc == 5)); then
		t_pass "cg_exec returns the exit status"
	else
		t_fail "cg_exec returns the exit status" "got $rc, want 5"
	fi
	cg_destroy "$d" || t_fail "cg_destroy of an idle cgroup" "failed"
}

test_freeze_destroy() {
	local d pid rc state

	d=$(cg_create "selftest-$$-freeze" "$LIMIT_BYTES" oom_disable) || {
		t_fail "gcsim freezes without help" "cg_create failed"
		return
	}
	cg_spawn "$d" "$GCSIM" >"$tmp/freeze.out" 2>&1
	pid=$CG_PID
	if cg_wait_frozen "$d" "$FREEZE_TIMEOUT_SEC"; then
		t_pass "gcsim freezes its cgroup without help (under_oom 1 after ${CG_WAITED_MSEC} ms)"
	else
		t_fail "gcsim freezes without help" "$(tail -1 "$tmp/freeze.out")"
	fi

	# A handled signal stays pending while the task is parked in the OOM
	# wait: the reason oomguard needs a memory reserve.
	kill -TERM "$pid"
	sleep 1
	state=$(proc_state "$pid")
	if [[ $state == D && $(cg_under_oom "$d") == 1 ]]; then
		t_pass "a frozen gcsim cannot run its SIGTERM handler (state D)"
	else
		t_fail "a frozen gcsim stays frozen after SIGTERM" "state '$state'"
	fi

	if cg_destroy "$d"; then
		t_pass "cg_destroy returns 0 on a frozen cgroup"
	else
		# Waiting for a gcsim that may still be frozen would hang.
		t_fail "cg_destroy on a frozen cgroup" "it failed"
		return
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	if [[ ! -e $d ]] && ((rc == 137)) && [[ -z $(proc_state "$pid") ]] &&
		! grep -qxF "$d" "$(_cg_registry)" 2>/dev/null; then
		t_pass "cg_destroy removed the dir and killed gcsim (status $rc)"
	else
		t_fail "cg_destroy cleans up" \
			"dir exists: $([[ -e $d ]] && echo yes || echo no), gcsim status $rc"
	fi
}

test_usr1_loop() {
	local d pid rc end froze=0 max_bytes=0 served

	d=$(cg_create "selftest-$$-usr1" "$LIMIT_BYTES" oom_disable) || {
		t_fail "gcsim survives with SIGUSR1" "cg_create failed"
		return
	}
	cg_spawn "$d" "$GCSIM" --exit-code 7 >"$tmp/usr1.out" 2>&1
	pid=$CG_PID
	if ! wait_caught "$pid" 10; then
		t_fail "gcsim installs its SIGUSR1 handler" "no SigCgt bit within 5 s"
		cg_destroy "$d"
		return
	fi
	end=$((SECONDS + 5))
	while ((SECONDS < end)); do
		kill -USR1 "$pid" 2>/dev/null || break
		sleep 0.2
		[[ $(cg_under_oom "$d") == 1 ]] && froze=1 && break
	done
	read -r max_bytes <"$d/memory.max_usage_in_bytes"
	if ((!froze)) && [[ -n $(proc_state "$pid") ]] && ((max_bytes < LIMIT_BYTES)); then
		t_pass "gcsim stays below the limit with SIGUSR1 every 200 ms\
 (peak $((max_bytes >> 20)) MiB of $((LIMIT_BYTES >> 20)))"
	else
		t_fail "gcsim stays below the limit with SIGUSR1" \
			"froze=$froze peak $((max_bytes >> 20)) MiB"
	fi

	# Never wait for a gcsim that may be frozen: destroy its cgroup first.
	if ((froze)); then
		cg_destroy "$d"
		wait "$pid" 2>/dev/null
		t_skip "gcsim exits with --exit-code on SIGTERM" "it froze"
		return
	fi
	kill -TERM "$pid"
	t_timeout 5 tail --pid="$pid" -f /dev/null || cg_destroy "$d"
	wait "$pid"
	rc=$?
	served=$(sed -n 's/.* usr1=\([0-9]*\)$/\1/p' "$tmp/usr1.out" | tail -1)
	if ((rc == 7 && ${served:-0} > 0)); then
		t_pass "gcsim served $served SIGUSR1 and exits with --exit-code on SIGTERM"
	else
		t_fail "gcsim SIGTERM exit" "status $rc (want 7), usr1 served '${served}'"
	fi
	cg_destroy "$d" || t_fail "cg_destroy after the SIGUSR1 test" "failed"
}

test_destroy_tree() {
	local d sub self

	d=$(cg_create "selftest-$$-tree" 64M) || {
		t_fail "cg_destroy of a tree" "cg_create failed"
		return
	}
	sub=$(cg_create "selftest-$$-tree/sub" 32M) || {
		t_fail "cg_create of a nested cgroup" "failed"
		return
	}
	cg_spawn "$d" sh -c 'trap "" TERM; sleep 600 & sleep 600 & wait'
	cg_spawn "$sub" "$SPAWNER" trap >/dev/null
	sleep 0.2
	if cg_destroy "$d" && [[ ! -e $d ]]; then
		t_pass "cg_destroy kills a process tree and removes nested cgroups"
	else
		t_fail "cg_destroy of a tree" "$d still exists"
	fi
	[[ -e $sub ]] && cg_destroy "$sub"

	self=$(cg_self_memdir)
	if ! cg_destroy "$self" 2>/dev/null && ! cg_destroy /tmp 2>/dev/null &&
		! cg_destroy "" 2>/dev/null && [[ -d $self ]]; then
		t_pass "cg_destroy refuses our own cgroup and foreign paths"
	else
		t_fail "cg_destroy refuses our own cgroup" "it did not"
	fi
}

test_cleanup_all() {
	local a b

	if ! a=$(cg_create "selftest-$$-ca" 64M) || ! b=$(cg_create "selftest-$$-cb" 64M); then
		t_fail "cg_cleanup_all" "cg_create failed"
		return
	fi
	cg_spawn "$b" sleep 600
	sleep 0.1
	if cg_cleanup_all && [[ ! -e $a && ! -e $b && ! -e $(_cg_registry) ]]; then
		t_pass "cg_cleanup_all removes every registered cgroup"
	else
		t_fail "cg_cleanup_all" "left: $(find "$a" "$b" -maxdepth 0 2>/dev/null | tr '\n' ' ')"
	fi
}

main() {
	if ! find_workloads; then
		t_fail "build the workloads" "cc failed"
		t_summary
		return
	fi
	test_summary
	test_testlib
	test_setup_helpers
	test_spawner
	test_self_memdir_fixtures

	if (($(id -u) != 0)); then
		t_skip "cgroup tests" "need root"
	elif ! test_self_memdir; then
		t_skip "cgroup tests" "no usable memory cgroup"
	elif [[ $(cg_version "$(cg_self_memdir)") != 1 ]]; then
		t_skip "cgroup v1 freeze tests" "cgroup v2 cannot disable the OOM killer"
		test_destroy_tree
		test_cleanup_all
	else
		test_create_exec
		test_freeze_destroy
		test_usr1_loop
		test_destroy_tree
		test_cleanup_all
	fi
	t_summary
}

main "$@"
