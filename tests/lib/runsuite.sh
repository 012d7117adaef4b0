#!/bin/bash
# runsuite.sh DIR NAME: run every test of a suite (DIR/test_*.sh), each
# under a timeout, and print one closing line "NAME: N passed, N failed,
# N skipped" over all of them. $OOMGUARD is the binary under test;
# $WORKLOAD_DIR holds the built test workloads. A script that hangs is
# killed and counted failed; one that prints no summary line, or exits
# non-zero with no failure counted, is counted failed. $ONLY keeps the
# tests whose name contains it; $TEST_TIMEOUT (300) is each one's limit
# in seconds.
set -uo pipefail
dir=$1 name=$2
: "${OOMGUARD:?set OOMGUARD to the binary under test}"
export OOMGUARD WORKLOAD_DIR
# shellcheck source=testlib.sh
source "$(dirname "$0")/testlib.sh"

pass=0 fail=0 skip=0
for t in "$dir"/test_*.sh; do
	test=$(basename "$t" .sh)
	[[ -n ${ONLY:-} && $test != *"$ONLY"* ]] && continue
	echo "== $test"
	log=$(mktemp)
	t_timeout "${TEST_TIMEOUT:-300}" bash "$t" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -1)
	rm -f "$log"
	if [[ -z $line ]]; then
		echo "$test: no summary (exit $rc)"
		fail=$((fail + 1))
		continue
	fi
	read -r p _ f _ s _ <<<"$line"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	((rc != 0 && f == 0)) && { echo "$test: exit $rc"; fail=$((fail + 1)); }
done
echo "$name: $pass passed, $fail failed, $skip skipped"
((fail == 0))
