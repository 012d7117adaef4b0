#!/bin/sh
# suite.sh - the cgroup v2 suite, run inside the test VM by tests/vm/check.sh
# (through run.sh, as the payload /payload/test, under busybox sh).
#
# Runs every /payload/t-*.sh in turn, each under its own time limit
# (SUITE_LIMIT_<name> seconds, else 60). A test prints its own RESULT lines.
# A test that overruns is killed and reported as a FAIL with the tail of its
# scratch files; a test that exits non-zero is reported too. After each
# test every og-* cgroup it left behind is emptied with cgroup.kill and
# removed, so the next one starts from a clean machine. With DUMP_LOGS=1
# (suite.env) every scratch file of every test is printed, prefixed "| ".
#
# Exit status: 0 (the RESULT lines carry the outcome).

. /payload/vmlib.sh

# Seconds each test may take before it counts as hung. Generous: the
# measured times (tests/vm/README) are a third of these or less.
limit_of() {
	case "$1" in
	t-gc) echo 60 ;;
	t-escalate) echo 60 ;;
	t-stall) echo 60 ;;
	t-churn) [ "${SURVIVAL:-0}" = 1 ] && echo 900 || echo 90 ;;
	t-limits) echo 60 ;;
	*) echo 40 ;;
	esac
}

cleanup_cgroups() {
	for d in "$CG"/og-*; do
		[ -d "$d" ] || continue
		# Children first (a test may nest), then the cgroup itself.
		for c in "$d"/*/; do
			[ -d "$c" ] && cg_destroy "${c%/}"
		done
		cg_destroy "$d" ||
			echo "suite: cannot remove $d: $(tr '\n' ' ' <"$d/cgroup.procs" 2>/dev/null)"
	done
}

echo "SUITE kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print $2 / 1024 " MiB" }' /proc/meminfo)"
for t in /payload/t-*.sh; do
	name=$(basename "$t" .sh)
	limit=$(limit_of "$name")
	start=$(now_ms)
	echo "SUITE begin $name"
	TEST=$name timeout -s KILL "$limit" sh "$t"
	rc=$?
	secs=$((($(now_ms) - start) / 100))
	secs="$((secs / 10)).$((secs % 10))"
	if [ "$rc" -eq 137 ] && [ "$(($(now_ms) - start))" -ge $((limit * 1000)) ]; then
		fail "$name" "timed out after ${limit}s; killed" -- /tmp/"$name"/*
	elif [ "$rc" -ne 0 ]; then
		fail "$name" "the test script exited with status $rc" -- /tmp/"$name"/*
	fi
	echo "SUITE end $name ${secs}s"
	if [ "${DUMP_LOGS:-0}" = 1 ]; then
		for f in /tmp/"$name"/*; do
			echo "| --- $f"
			sed 's/^/| /' "$f"
		done
	fi
	cleanup_cgroups
done
exit 0
