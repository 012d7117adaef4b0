#!/bin/bash
# --cgroups discovery (src/cgscan.c) on real v1 memory cgroups: check_cgscan's
# case that makes a.slice and a.slice/x.scope under the test's own memory
# cgroup while the watch runs, with the fallback rescan an hour away: the new
# cgroup must be found through cgroupfs's inotify events within a second,
# and its rmdir reported. Run under the test lock (make check-integration).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/lib/testlib.sh"
source "$root/tests/lib/cgroup.sh"
cg_need_v1 "cgscan on v1 cgroups" "the memory controller is not a writable v1 hierarchy"
bin=${CHECK_CGSCAN:-$root/build/tests/check_cgscan}
if [[ ! -x $bin ]]; then
	t_fail "cgscan" "no $bin (make build/tests/check_cgscan)"
	t_summary
	exit
fi
cd "$root"
if out=$(CGSCAN_CGROUPS=1 CK_RUN_CASE=cgscan CK_DEFAULT_TIMEOUT=30 timeout 60 "$bin" 2>&1) &&
	[[ $out != *"left to test_cgscan.sh"* && $out != *skipped* ]]; then
	t_pass "cgscan: a v1 cgroup made under a watched parent found by inotify within 1 s, its rmdir reported"
else
	t_fail "cgscan" "$out"
fi
left=$(find "$self" -maxdepth 1 -name 'check_cgscan-*' 2>/dev/null)
if [[ -z $left ]]; then
	t_pass "cgscan: no test cgroup left"
else
	t_fail "cgscan: left behind" "$left"
	find "$self" -depth -path '*/check_cgscan-*' -type d -exec rmdir {} \; 2>/dev/null
fi
t_summary
