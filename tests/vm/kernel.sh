#!/bin/bash
# kernel.sh - fetch Debian's own kernel for the cgroup v2 test VM.
#
# Usage: tests/vm/kernel.sh
#
# Prints the path of the vmlinuz to boot. The kernel package is the one
# linux-image-amd64 depends on (the kernel a Debian 12 machine really runs),
# fetched with `apt-get download` and unpacked with `dpkg -x` into
# ${VM_CACHE:-/var/cache/oomguard-vm}. It is never installed on the
# host. A second run reuses the cache and needs no network, as long as the
# apt lists still name the same package version.
#
# Also installs the host packages the harness needs (qemu-system-x86,
# busybox-static, cpio) when they are missing.
#
# Exit status: 0 on success, 1 on any failure (message on stderr).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

# kernel_resolve_package
# Prints the concrete kernel package behind the linux-image-amd64
# metapackage, e.g. linux-image-6.1.0-56-amd64. Without apt lists apt-cache
# knows nothing, so a failed lookup refreshes the lists once and retries.
kernel_resolve_package() {
	local pkg

	pkg=$(kernel_depends_of linux-image-amd64)
	if [ -z "$pkg" ]; then
		vm_log "apt-cache does not know linux-image-amd64; running apt-get update"
		apt-get update >&2
		pkg=$(kernel_depends_of linux-image-amd64)
	fi
	[ -n "$pkg" ] || vm_die "cannot resolve the package linux-image-amd64 depends on"
	printf '%s\n' "$pkg"
}

# kernel_depends_of METAPACKAGE
# Prints the first linux-image-* dependency of METAPACKAGE, or nothing
# (also when apt-cache does not know METAPACKAGE). awk reads to the end:
# an early exit could kill apt-cache with SIGPIPE, which pipefail reports.
kernel_depends_of() {
	apt-cache depends "$1" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ && !found {
			print $2; found = 1 }' || true
}

# kernel_candidate_version PKG
# Prints the version apt-get download would fetch.
kernel_candidate_version() {
	apt-cache policy "$1" | awk '$1 == "Candidate:" { print $2 }'
}

# kernel_fetch PKG VERSION DIR
# Downloads and unpacks PKG into DIR unless DIR is already complete. The
# unpack goes to a temporary sibling first and is renamed into place, so an
# interrupted run never leaves a half-unpacked tree that looks reusable.
kernel_fetch() {
	local pkg=$1 version=$2 dir=$3 debdir tmp deb

	[ -e "$dir/.complete" ] && return 0

	debdir=$VM_CACHE_DIR/debs
	mkdir -p "$debdir"
	# apt's file name uses the version with ':' escaped; match by prefix.
	deb=$(find "$debdir" -maxdepth 1 -name "${pkg}_*.deb" -print |
		grep -F "_${version//:/%3a}_" | head -n 1 || true)
	if [ -z "$deb" ]; then
		vm_log "downloading $pkg=$version into $debdir"
		# apt-get download writes to the current directory. It runs
		# unsandboxed as root here (the _apt user cannot write the
		# cache); that warning is expected.
		(cd "$debdir" && apt-get download "$pkg=$version" >&2)
		deb=$(find "$debdir" -maxdepth 1 -name "${pkg}_*.deb" -print |
			grep -F "_${version//:/%3a}_" | head -n 1 || true)
		[ -n "$deb" ] || vm_die "apt-get download left no .deb for $pkg=$version"
	fi

	vm_log "unpacking $deb"
	rm -rf "$dir.tmp"
	tmp=$dir.tmp
	mkdir -p "$tmp"
	dpkg -x "$deb" "$tmp"
	touch "$tmp/.complete"
	rm -rf "$dir"
	mv "$tmp" "$dir"
}

# kernel_vmlinuz DIR
# Prints the single vmlinuz inside an unpacked kernel tree.
kernel_vmlinuz() {
	local found

	found=$(find "$1/boot" -maxdepth 1 -name 'vmlinuz-*' -print)
	[ -n "$found" ] || vm_die "no boot/vmlinuz-* in $1"
	[ "$(printf '%s\n' "$found" | wc -l)" -eq 1 ] ||
		vm_die "more than one vmlinuz in $1/boot"
	printf '%s\n' "$found"
}

main() {
	local pkg version dir

	[ "$#" -eq 0 ] || vm_die "usage: $VM_PROG (no arguments)"
	vm_ensure_host_packages qemu-system-x86 busybox-static cpio
	mkdir -p "$VM_CACHE_DIR"

	# Two harness runs at once must not unpack into the same directory.
	exec 9>"$VM_CACHE_DIR/.lock"
	flock 9

	pkg=$(kernel_resolve_package)
	version=$(kernel_candidate_version "$pkg")
	if [ -z "$version" ] || [ "$version" = "(none)" ]; then
		vm_die "no candidate version for $pkg"
	fi
	dir=$VM_CACHE_DIR/${pkg}_${version}
	kernel_fetch "$pkg" "$version" "$dir"
	kernel_vmlinuz "$dir"
}

main "$@"
