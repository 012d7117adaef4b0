#!/bin/bash
# probe against a real child memory cgroup of the test's own: the limit it
# reports, a usage that matches the kernel's file, the cgroup of a PID, of
# itself, and every notification mechanism tried.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/lib/testlib.sh"
source "$root/tests/lib/cgroup.sh"
trap cg_cleanup_all EXIT

if ! self=$(cg_self_memdir 2>/dev/null) || [[ ! -w $self ]]; then
	t_skip "probe on a real cgroup" "no writable memory cgroup here (need root)"
	t_summary
	exit
fi
ver=$(cg_version "$self")
dir=$(cg_create "oomguard-probe-$$" $((128 << 20))) || { t_fail "create cgroup" "cg_create failed"; t_summary; exit 1; }
out=$(mktemp)
cg_spawn "$dir" "$WORKLOAD_DIR/hold" 32 >"$out"
for _ in $(seq 100); do
	[[ -s $out ]] && break
	sleep 0.1
done
[[ $(<"$out") == ready ]] && t_pass "workload holds 32 MiB in $dir" || t_fail "workload" "no ready line"
rm -f "$out"

json=$("$OOMGUARD" probe --cgroup "$dir" --json)
field() { sed -n "s/^  \"$1\": \([0-9]*\),*$/\1/p" <<<"$json"; }
limit=$(field limit_bytes)
usage=$(field usage_bytes)
kusage=$(cg_usage "$dir")
[[ $limit == $((128 << 20)) ]] && t_pass "probe reports the limit" || t_fail "limit" "got '$limit'"
# The kernel's usage moves with per-CPU charge batches: allow 2 MiB.
diff=$((usage > kusage ? usage - kusage : kusage - usage))
if [[ -n $usage ]] && ((usage >= 32 << 20 && diff <= 2 << 20)); then
	t_pass "probe usage $usage matches the kernel's $kusage"
else
	t_fail "usage" "probe '$usage' kernel '$kusage'"
fi
grep -q "\"version\": $ver," <<<"$json" && t_pass "version v$ver" || t_fail "version" "$json"

text=$("$OOMGUARD" probe --pid "$CG_PID")
grep -q "^directory: *$dir\$" <<<"$text" && t_pass "probe --pid finds the cgroup" ||
	t_fail "probe --pid" "$text"

# probe of itself, started inside the cgroup
text=$(cg_exec "$dir" "$OOMGUARD" probe)
name=${dir#"$self"}
grep -q "^path: .*$name\$" <<<"$text" && t_pass "probe names its own cgroup" ||
	t_fail "probe self" "$text"
grep -q "^limit: *128.0MiB" <<<"$text" && t_pass "probe self reads the limit" ||
	t_fail "probe self limit" "$text"

# every mechanism is tried and reported as available or with an errno
if [[ $ver == 1 ]]; then
	grep -q "v1 threshold eventfd: *available" <<<"$text" && t_pass "v1 threshold eventfd available" ||
		t_fail "v1 threshold" "$text"
	grep -q "v1 oom eventfd: *available" <<<"$text" && t_pass "v1 oom eventfd available" ||
		t_fail "v1 oom" "$text"
else
	grep -q "v2 inotify memory.events: *available" <<<"$text" && t_pass "v2 inotify available" ||
		t_fail "v2 inotify" "$text"
fi
grep -Eq "psi trigger \(some 150ms 1s\): *(available|E[A-Z]+ )" <<<"$text" &&
	t_pass "psi trigger tried: $(grep -o 'psi trigger.*' <<<"$text")" || t_fail "psi trigger" "$text"

out=$("$OOMGUARD" probe --cgroup /no/such/cgroup 2>&1)
rc=$?
[[ $rc == 1 && $out == "oomguard: cannot locate the memory cgroup of /no/such/cgroup (--cgroup): "* ]] &&
	t_pass "unknown cgroup: exit 1 and a message" || t_fail "unknown cgroup" "exit $rc: $out"

kill -9 "$CG_PID" 2>/dev/null
t_summary
