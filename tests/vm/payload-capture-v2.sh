#!/bin/sh
# payload-capture-v2.sh - snapshot real cgroup v2 files for the fixtures,
# run inside the VM by capture-v2.sh (through run.sh).
#
# Sets up:
#   /sys/fs/cgroup/test     memory.max 64M, memory.high 48M; one process
#                           holds 40 MiB; a second one holds 16 MiB for a
#                           moment, which pushes the cgroup over
#                           memory.high (throttling, `high` in
#                           memory.events, memory stalls in PSI) and is
#                           then killed; then 4 MiB of page cache is read
#                           in, so the file counters of memory.stat are
#                           not all zero
#   /sys/fs/cgroup/nolimit  no limits; one process holds 8 MiB
# then prints the files with vm-emit, paths relative to /.

cg=/sys/fs/cgroup
test_cg=$cg/test
nolimit_cg=$cg/nolimit

# wait_until TENTHS CMD...: retries CMD every 0.1 s for up to TENTHS tenths
# of a second. Returns CMD's last status.
wait_until() {
	tenths=$1
	shift
	while ! "$@"; do
		[ "$tenths" -gt 0 ] || return 1
		tenths=$((tenths - 1))
		usleep 100000
	done
}

# spawn_in CGDIR CMD...: starts CMD in the background inside CGDIR. The
# subshell moves itself first, so CMD is charged there from its first page.
spawn_in() {
	dir=$1
	shift
	(echo 0 >"$dir/cgroup.procs" && exec "$@") &
}

# current_at_least CGDIR MIB
current_at_least() {
	[ "$(cat "$1/memory.current")" -ge $(($2 << 20)) ]
}

# events_high CGDIR: prints the `high` counter of memory.events.
events_high() {
	sed -n 's/^high //p' "$1/memory.events"
}

high_counted() {
	[ "$(events_high "$test_cg")" -gt 0 ]
}

# stat_at_least CGDIR KEY BYTES: memory.stat's KEY is at least BYTES.
stat_at_least() {
	[ "$(sed -n "s/^$2 //p" "$1/memory.stat")" -ge "$3" ]
}

# check NAME CMD...: one RESULT line for a setup step. Stops the payload on
# failure: a fixture taken from a half-done setup is worse than none.
check() {
	name=$1
	shift
	if "$@"; then
		vm-result "$name" PASS "$*"
	else
		vm-result "$name" FAIL "$*"
		exit 1
	fi
}

mkdir "$test_cg" "$nolimit_cg" || exit 1
echo 64M >"$test_cg/memory.max" || exit 1
echo 48M >"$test_cg/memory.high" || exit 1

spawn_in "$test_cg" alloc 40
check capture-test-holds-40M wait_until 200 current_at_least "$test_cg" 40

spawn_in "$test_cg" alloc 16
burst=$!
check capture-test-over-high wait_until 300 high_counted
# Let the throttled process stall a while longer, so PSI has something to
# show, then end the burst.
sleep 2
kill -9 "$burst"
wait "$burst" 2>/dev/null

# The VM has no disk; a RAM disk (brd, loaded by capture-v2.sh) is the
# block device whose page cache the read charges to the test cgroup. This
# comes after the burst, or reclaim above memory.high would take it back.
# The last close of a block device drops its page cache, so a process in
# the root cgroup keeps /dev/ram0 open.
# shellcheck disable=SC2217 # the open descriptor is the point
sleep 100000 </dev/ram0 &
(
	echo 0 >"$test_cg/cgroup.procs" &&
		dd if=/dev/ram0 of=/dev/null bs=1M count=4 2>/dev/null
)
check capture-test-file-cache stat_at_least "$test_cg" inactive_file $((4 << 20))

spawn_in "$nolimit_cg" alloc 8
check capture-nolimit-holds-8M wait_until 200 current_at_least "$nolimit_cg" 8

# /proc/self/* of a process inside the test cgroup: the subshell joins it,
# and vm-emit's cat (whose /proc/self is read) inherits that.
(
	echo 0 >"$test_cg/cgroup.procs" || exit 1
	vm-emit /proc/self/cgroup
	vm-emit /proc/self/mountinfo
)

vm-emit /proc/meminfo
vm-emit /proc/pressure/memory
vm-emit "$cg/cgroup.controllers"
vm-emit "$cg/cgroup.subtree_control"
for f in memory.current memory.max memory.high memory.low memory.min \
	memory.peak memory.stat memory.events memory.events.local \
	memory.pressure cgroup.events cgroup.procs cgroup.controllers; do
	vm-emit "$test_cg/$f"
done
for f in memory.current memory.max memory.high memory.stat memory.events; do
	vm-emit "$nolimit_cg/$f"
done
# For the README, not a fixture.
vm-emit /proc/version version

vm-result capture-v2 PASS "high=$(events_high "$test_cg") current=$(cat "$test_cg/memory.current")"
