#!/bin/bash
# capture-v2.sh - refresh tests/fixtures/v2 from a real cgroup v2 kernel.
#
# Usage: tests/vm/capture-v2.sh [DEST]
#
# Builds alloc, boots the VM with payload-capture-v2.sh, extracts the files
# it printed and, only when every expected file came back intact, replaces
# DEST/proc and DEST/sys with them and rewrites DEST/README. DEST defaults
# to tests/fixtures/v2 of this checkout.
#
# Exit status: 0 on success; 1 when the VM run, the extraction or the
# check of the file list failed (DEST is then left as it was).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

# Every fixture the payload must hand back, relative to the fixture root.
EXPECTED=(
	proc/self/cgroup
	proc/self/mountinfo
	proc/meminfo
	proc/pressure/memory
	sys/fs/cgroup/cgroup.controllers
	sys/fs/cgroup/cgroup.subtree_control
	sys/fs/cgroup/test/memory.current
	sys/fs/cgroup/test/memory.max
	sys/fs/cgroup/test/memory.high
	sys/fs/cgroup/test/memory.low
	sys/fs/cgroup/test/memory.min
	sys/fs/cgroup/test/memory.peak
	sys/fs/cgroup/test/memory.stat
	sys/fs/cgroup/test/memory.events
	sys/fs/cgroup/test/memory.events.local
	sys/fs/cgroup/test/memory.pressure
	sys/fs/cgroup/test/cgroup.events
	sys/fs/cgroup/test/cgroup.procs
	sys/fs/cgroup/test/cgroup.controllers
	sys/fs/cgroup/nolimit/memory.current
	sys/fs/cgroup/nolimit/memory.max
	sys/fs/cgroup/nolimit/memory.high
	sys/fs/cgroup/nolimit/memory.stat
	sys/fs/cgroup/nolimit/memory.events
)

# capture_check_files DIR
# Dies unless DIR holds exactly the expected files.
capture_check_files() {
	local dir=$1 f want got

	for f in "${EXPECTED[@]}"; do
		[ -f "$dir/$f" ] || vm_die "the VM did not hand back $f"
	done
	want=$(printf '%s\n' "${EXPECTED[@]}" version | sort)
	got=$(cd "$dir" && find . -type f | sed 's|^\./||' | sort)
	[ "$want" = "$got" ] ||
		vm_die "unexpected files from the VM: $(comm -13 <(echo "$want") <(echo "$got") | tr '\n' ' ')"
}

# capture_write_readme DEST VERSION_FILE
capture_write_readme() {
	local dest=$1 version

	version=$(cat "$2")
	cat >"$dest/README" <<EOF
Real cgroup v2 files, captured from Debian's own kernel in a QEMU VM.
Regenerate them all with tests/vm/capture-v2.sh; do not edit by hand.

Kernel (/proc/version in the VM):
  $version

Captured with:
  tests/vm/capture-v2.sh
which runs
  tests/vm/run.sh -m brd tests/vm/payload-capture-v2.sh alloc
(busybox /init as set up by tests/vm/initramfs.sh: cgroup2 mounted at
/sys/fs/cgroup, "+memory" written to the root's cgroup.subtree_control,
no swap, 1024 MiB RAM, 2 CPUs) and extracts the files with
tests/vm/extract.sh.

Paths mirror the VM's absolute paths under this directory.

State at capture time (see tests/vm/payload-capture-v2.sh):
- sys/fs/cgroup/test: memory.max 64M, memory.high 48M. One process holds
  40 MiB of anonymous memory. A second process held 16 MiB for a few
  seconds, which pushed the cgroup over memory.high (throttled; the "high"
  counter in memory.events is non-zero, memory.peak and memory.pressure
  show it) and was then killed. Then a process in the cgroup read 4 MiB of
  a RAM disk (/dev/ram0), leaving that much clean page cache (the file
  counters in memory.stat).
- sys/fs/cgroup/nolimit: no limits (memory.max and memory.high "max"); one
  process holds 8 MiB.
- proc/self/cgroup and proc/self/mountinfo: read by a process inside
  /test.
- proc/meminfo and proc/pressure/memory: the whole VM, read just before
  the cgroup files.
- The root's cgroup.subtree_control holds only "memory": that is all the
  VM's /init enables (systemd hosts enable more).
EOF
}

main() {
	local dest work log

	[ "$#" -le 1 ] || vm_die "usage: $VM_PROG [DEST]"
	dest=${1:-$here/../fixtures/v2}
	work=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: work is local
	trap "rm -rf '$work'" EXIT
	log=$(mktemp /tmp/oomguard-vm-console.XXXXXX)

	"$here/build.sh" "$work/bin" >/dev/null
	# brd: the RAM disk the payload reads to put page cache in the cgroup.
	"$here/run.sh" -l "$log" -m brd "$here/payload-capture-v2.sh" \
		"$work/bin/alloc" ||
		vm_die "the capture run failed; console log: $log"
	"$here/extract.sh" "$log" "$work/out" >/dev/null ||
		vm_die "extracting the files failed; console log: $log"
	capture_check_files "$work/out"

	mkdir -p "$dest"
	rm -rf "$dest/proc" "$dest/sys"
	cp -r "$work/out/proc" "$work/out/sys" "$dest/"
	capture_write_readme "$dest" "$work/out/version"
	vm_log "fixtures written to $(cd "$dest" && pwd)"
}

main "$@"
