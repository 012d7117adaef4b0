#!/bin/bash
# build.sh - build the VM's helper programs (alloc, notify-probe).
#
# Usage: tests/vm/build.sh OUTDIR
#
# Static binaries: the VM has busybox and no libc of its own, and a static
# binary keeps initramfs.sh's ldd pass out of the picture. Prints the path
# of each binary built.
#
# Exit status: 0 on success, 1 on a failure (compiler messages on stderr).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

# The warnings of STYLE.md, so these helpers read like the daemon.
CFLAGS=(-O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes
	-Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wformat=2 -Werror)

main() {
	local out prog

	[ "$#" -eq 1 ] || vm_die "usage: $VM_PROG OUTDIR"
	out=$1
	mkdir -p "$out"
	vm_ensure_host_packages gcc libc6-dev
	for prog in alloc notify-probe; do
		gcc "${CFLAGS[@]}" -static -o "$out/$prog" "$here/$prog.c"
		printf '%s\n' "$out/$prog"
	done
}

main "$@"
