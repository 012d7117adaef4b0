#!/bin/bash
# shellcheck source-path=SCRIPTDIR/../lib
# The operator's limit is the operator's: on a real v1 cgroup watched by
# oomguard, memory.limit_in_bytes is raised, lowered, removed and set again
# while oomguard runs; 2 s after each change, and after oomguard exits, the
# limit (and memory.memsw.limit_in_bytes) is exactly what the operator
# wrote. Run in both forms the reserve can take in limit mode:
#
#   L1. a sidecar, oomguard --cgroup DIR --pid P from outside the cgroup
#       (reserve mode auto: limit);
#   L2. the entrypoint, oomguard -- hold inside the cgroup, with
#       [reserve] mode = limit;
#   L3. the entrypoint with the default reserve (memory mode).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
cg_test_setup og
cg_need_v1 "operator's limits on cgroup v1" "needs root and a v1 memory cgroup"
MiB=$((1 << 20))

# set_limit DIR BYTES: write the limit as an operator would, memsw kept
# unlimited so that it never refuses the memory limit; print what the
# kernel took (it rounds to pages; -1 reads back as its largest value).
set_limit() {
	echo "$2" >"$1/memory.limit_in_bytes" || return 1
	cat "$1/memory.limit_in_bytes"
}

memsw_of() {
	cat "$1/memory.memsw.limit_in_bytes" 2>/dev/null || echo none
}

# check NAME DIR WANT MEMSW: the limit is WANT and memsw MEMSW.
check() {
	local got sw
	got=$(cat "$2/memory.limit_in_bytes") sw=$(memsw_of "$2")
	if [[ $got == "$3" && $sw == "$4" ]]; then
		t_pass "$1: limit $got"
	else
		t_fail "$1" "limit $got (want $3), memsw $sw (want $4); log: $(tail -20 "$tmp/og.log")"
	fi
}

# changes NAME DIR: raise, lower, remove and set the limit again while
# oomguard watches; each must stand untouched for 2 s.
changes() {
	local want bytes
	for bytes in $((512 * MiB)) $((384 * MiB)) -1 $((300 * MiB)); do
		want=$(set_limit "$2" "$bytes") || {
			t_fail "$1: write $bytes" "refused"
			continue
		}
		sleep 2
		check "$1: $bytes, 2 s later" "$2" "$want" "$3"
	done
}

# stop_og: SIGTERM oomguard and wait for it (up to 10 s).
stop_og() {
	t_stop "$og"
	og=
}

# L1: the sidecar.
dir=$(cg_create "og-limits1-$$" $((256 * MiB)))
echo -1 >"$dir/memory.memsw.limit_in_bytes" 2>/dev/null
sw=$(memsw_of "$dir")
cg_spawn "$dir" "$WORKLOAD_DIR/hold" 16 >/dev/null
app=$CG_PID
"$OOMGUARD" --cgroup "$dir" --pid "$app" 2>"$tmp/og.log" &
og=$!
if t_wait_log "$tmp/og.log" 'reserve: holding' 10; then
	changes "sidecar" "$dir" "$sw"
	want=$(cat "$dir/memory.limit_in_bytes")
	stop_og
	check "sidecar: after oomguard exits" "$dir" "$want" "$sw"
else
	t_fail "sidecar: start" "$(cat "$tmp/og.log")"
	stop_og
fi
kill -KILL "$app" 2>/dev/null
cg_destroy "$dir"

# L2 and L3: the entrypoint, inside the cgroup.
n=2
for mode in limit memory; do
	dir=$(cg_create "og-limits$n-$$" $((256 * MiB)))
	echo -1 >"$dir/memory.memsw.limit_in_bytes" 2>/dev/null
	sw=$(memsw_of "$dir")
	printf '[reserve]\nmode = %s\n' "$mode" >"$tmp/og.ini"
	cg_spawn "$dir" "$OOMGUARD" -c "$tmp/og.ini" -- "$WORKLOAD_DIR/hold" 16 2>"$tmp/og.log" >/dev/null
	og=$CG_PID
	if t_wait_log "$tmp/og.log" 'reserve: holding' 10; then
		changes "entrypoint, reserve mode $mode" "$dir" "$sw"
		want=$(cat "$dir/memory.limit_in_bytes")
		stop_og
		check "entrypoint, reserve mode $mode: after oomguard exits" "$dir" "$want" "$sw"
	else
		t_fail "entrypoint, reserve mode $mode: start" "$(cat "$tmp/og.log")"
		stop_og
	fi
	cg_destroy "$dir"
	n=$((n + 1))
done
t_summary
