#!/bin/bash
# Run every fault test (tests/faults/test_*.sh), each under a
# timeout, and print one closing line "N passed, N failed, N skipped" over
# all of them. $OOMGUARD is the binary under test; $WORKLOAD_DIR holds the
# built test workloads. A script that hangs is killed and counted failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${OOMGUARD:?set OOMGUARD to the binary under test}"
export OOMGUARD WORKLOAD_DIR
source "$here/../lib/testlib.sh"

pass=0 fail=0 skip=0
for t in "$here"/test_*.sh; do
	name=$(basename "$t" .sh)
	[[ -n ${ONLY:-} && $name != *"$ONLY"* ]] && continue
	echo "== $name"
	log=$(mktemp)
	t_timeout "${TEST_TIMEOUT:-300}" bash "$t" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -1)
	rm -f "$log"
	if [[ -z $line ]]; then
		echo "$name: no summary (exit $rc)"
		fail=$((fail + 1))
		continue
	fi
	read -r p _ f _ s _ <<<"$line"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	((rc != 0 && f == 0)) && { echo "$name: exit $rc"; fail=$((fail + 1)); }
done
echo "$pass passed, $fail failed, $skip skipped"
((fail == 0))
