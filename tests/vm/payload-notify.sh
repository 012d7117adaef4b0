#!/bin/sh
# payload-notify.sh - PSI trigger and memory.events notification probe,
# run inside the VM by run.sh.
#
# Usage (host):
#   tests/vm/build.sh /tmp/oomguard-vm-bin
#   tests/vm/run.sh tests/vm/payload-notify.sh \
#       /tmp/oomguard-vm-bin/notify-probe /tmp/oomguard-vm-bin/alloc
#
# A child cgroup with memory.high 48M under memory.max 64M; the load is one
# process holding 60 MiB, so it sits throttled above memory.high (no swap
# in the VM, nothing to reclaim) without reaching memory.max. notify-probe
# prints the RESULT lines.

cg=/sys/fs/cgroup/probe

if ! { mkdir "$cg" && echo 64M >"$cg/memory.max" &&
	echo 48M >"$cg/memory.high"; }; then
	vm-result notify-setup FAIL "cannot set up $cg"
	exit 1
fi
notify-probe "$cg" 30 alloc 60
