#!/bin/bash
# check.sh - the cgroup v2 suite: build what it needs, boot the VM once, run
# every test in tests/vm/v2/ inside it, report.
#
# Usage: tests/vm/check.sh [-l LOG] [-v] [TEST...]
#
#   -l LOG   keep the console log at LOG (default: a new file in /tmp,
#            whose path is printed)
#   -v       copy the console to stdout while the VM runs
#   TEST     run only these tests of tests/vm/v2 (gc or t-gc for t-gc.sh);
#            default: all of them
#
# Environment:
#   OOMGUARD       the oomguard binary (default: build/oomguard, built with
#                  make when OOMGUARD is unset)
#   WORKLOAD_DIR   gcsim, spawner, hold, stepper (default: build/workload,
#                  built with make when WORKLOAD_DIR is unset)
#   VM_TIMEOUT     seconds for boot + suite before qemu is killed (240)
#   VM_GC_SECS     length of the long gc run in the VM (10)
#   VM_DUMP_LOGS   1: the VM prints every test's scratch files (oomguard's
#                  logs, workload output) to the console log, "| " prefixed
#   and run.sh's VM_ACCEL, VM_MEM, VM_SMP, VM_APPEND, VM_CACHE.
#
# Prints each RESULT line, then exactly one closing line
# `N passed, N failed, N skipped`. A VM that does not finish (timeout,
# panic) counts as one more failure, with the console tail printed by
# run.sh; on any failure the suite's detail lines (each failing result's
# log excerpt, prefixed "| ") are printed too.
#
# Exit status: 0 when nothing failed, 1 otherwise, 64 on a usage error.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

WORKLOADS=(gcsim spawner hold stepper churn)

usage() {
	vm_log "usage: $VM_PROG [-l LOG] [-v] [TEST...]"
	exit 64
}

# check_build: sets OOMGUARD and WORKLOAD_DIR, building with make what the
# caller did not provide. make is a no-op when everything is up to date.
check_build() {
	local targets=() w

	if [ -z "${OOMGUARD:-}" ]; then
		OOMGUARD=$root/build/oomguard
		targets+=(build/oomguard)
	fi
	if [ -z "${WORKLOAD_DIR:-}" ]; then
		WORKLOAD_DIR=$root/build/workload
		for w in "${WORKLOADS[@]}"; do
			targets+=("build/workload/$w")
		done
	fi
	if [ "${#targets[@]}" -gt 0 ]; then
		make -C "$root" --no-print-directory "${targets[@]}" >&2
	fi
	[ -x "$OOMGUARD" ] || vm_die "no oomguard binary at $OOMGUARD"
	for w in "${WORKLOADS[@]}"; do
		[ -x "$WORKLOAD_DIR/$w" ] || vm_die "no workload $WORKLOAD_DIR/$w"
	done
}

# check_summary CLEAN_LOG RUN_STATUS: prints the closing line from the
# RESULT lines of the console log, returns 0 or 1.
check_summary() {
	local clean=$1 run_rc=$2 passed failed skipped

	passed=$(grep -c '^RESULT [^ ]* PASS' "$clean" || true)
	failed=$(grep -c '^RESULT [^ ]* FAIL' "$clean" || true)
	skipped=$(grep -c '^RESULT [^ ]* SKIP' "$clean" || true)
	if [ "$run_rc" -eq 2 ]; then
		# The VM hung or crashed: whatever did not report is lost.
		printf 'RESULT vm-finished FAIL the VM did not finish (console tail above)\n'
		failed=$((failed + 1))
	elif [ "$run_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
		printf 'RESULT vm-run FAIL run.sh exited with status %s\n' "$run_rc"
		failed=1
	fi
	if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
		printf 'RESULT vm-results FAIL the suite reported nothing\n'
		failed=1
	fi
	printf '%s passed, %s failed, %s skipped\n' "$passed" "$failed" "$skipped"
	[ "$failed" -eq 0 ]
}

main() {
	local log="" verbose=() opt work run_rc=0 files=() tests=() w t start

	while getopts l:v opt; do
		case "$opt" in
		l) log=$OPTARG ;;
		v) verbose=(-v) ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	if [ "$#" -eq 0 ]; then
		tests=("$here"/v2/t-*.sh)
	else
		for t in "$@"; do
			t=$here/v2/t-${t#t-}
			t=${t%.sh}.sh
			[ -f "$t" ] || vm_die "no test $t"
			tests+=("$t")
		done
	fi
	[ -n "$log" ] || log=$(mktemp /tmp/oomguard-vm-check.XXXXXX)

	start=$(date +%s)
	check_build
	work=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: work is local
	trap "rm -rf '$work'" EXIT

	# Settings for the suite, read by vmlib.sh in the VM.
	printf 'GC_SECS=%s\nDUMP_LOGS=%s\nSURVIVAL=%s\n' "${VM_GC_SECS:-10}" "${VM_DUMP_LOGS:-0}" "${VM_SURVIVAL:-0}" \
		>"$work/suite.env"
	files=("$OOMGUARD" "$here/v2/vmlib.sh" "$work/suite.env")
	for w in "${WORKLOADS[@]}"; do
		files+=("$WORKLOAD_DIR/$w")
	done
	files+=("${tests[@]}")

	# run.sh prints the RESULT lines, the console log's path, the time
	# taken, and the console tail when the VM does not finish.
	# brd: the RAM disk whose page cache t-knobs.sh has the kernel reclaim.
	"$here/run.sh" -t "${VM_TIMEOUT:-240}" -l "$log" -m brd ${verbose[@]+"${verbose[@]}"} \
		"$here/v2/suite.sh" "${files[@]}" || run_rc=$?
	tr -d '\r' <"$log" >"$work/console.txt"
	if grep -q '^RESULT [^ ]* FAIL' "$work/console.txt"; then
		vm_log "the failures in detail (console log: $log):"
		grep -E '^(RESULT [^ ]* FAIL|\| |SUITE )' "$work/console.txt" >&2 || true
	fi
	vm_log "build + VM + suite took $(($(date +%s) - start))s"
	check_summary "$work/console.txt" "$run_rc"
}

main "$@"
