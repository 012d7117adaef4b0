#!/bin/sh
# payload-smoke.sh - the harness's own check, run inside the VM by run.sh.
#
# Usage (host): tests/vm/run.sh tests/vm/payload-smoke.sh
#
# Checks only what every other payload relies on: cgroup2 is mounted, the
# memory controller reaches a child, and a file comes back out through
# vm-emit. Also the cheapest payload, so its run time is the harness's
# boot overhead.

cg=/sys/fs/cgroup

if grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts; then
	vm-result cgroup2-mounted PASS "cgroup2 on $cg"
else
	vm-result cgroup2-mounted FAIL "no cgroup2 mount on $cg"
fi

if mkdir "$cg/smoke" && [ -f "$cg/smoke/memory.max" ]; then
	vm-result memory-controller PASS "child has memory.max ($(cat $cg/smoke/memory.max))"
else
	vm-result memory-controller FAIL "child $cg/smoke has no memory.max"
fi
rmdir "$cg/smoke" 2>/dev/null

if [ -r /proc/pressure/memory ]; then
	vm-result psi PASS "/proc/pressure/memory readable"
else
	vm-result psi FAIL "/proc/pressure/memory missing"
fi

vm-emit /proc/version smoke/version
