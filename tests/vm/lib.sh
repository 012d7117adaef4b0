# shellcheck shell=bash
# Shared helpers for the cgroup v2 VM harness. Sourced, not executed.
#
# The harness scripts run on the build machine (Debian 12, root). They
# never install a kernel on the host: the kernel only ever runs inside QEMU.

# Let `set -e` reach into $(...) too, so a helper that fails inside a
# command substitution stops the script instead of yielding empty output.
shopt -s inherit_errexit

# Where downloaded and unpacked kernels live. Outside the repository on
# purpose: a 70 MB .deb and its unpacked tree must not end up in git.
# shellcheck disable=SC2034 # used by the scripts that source this
VM_CACHE_DIR=${VM_CACHE:-/var/cache/oomguard-vm}

# The name of the calling script, for messages.
VM_PROG=$(basename "$0")

vm_log() {
	printf '%s: %s\n' "$VM_PROG" "$*" >&2
}

vm_die() {
	vm_log "$*"
	exit 1
}

# vm_ensure_host_packages PKG...
# Installs the packages that are not installed yet. dpkg-query is asked
# first so that a machine that already has everything never touches apt
# (and so never needs the network).
vm_ensure_host_packages() {
	local pkg missing=()

	for pkg in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q 'install ok installed'; then
			missing+=("$pkg")
		fi
	done
	[ "${#missing[@]}" -eq 0 ] && return 0

	[ "$(id -u)" -eq 0 ] ||
		vm_die "missing host packages: ${missing[*]} (run as root to install them)"
	vm_log "installing host packages: ${missing[*]}"
	# A stale package list makes the install fail with 404s; refresh once.
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y \
		--no-install-recommends "${missing[@]}" >&2; then
		apt-get update >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y \
			--no-install-recommends "${missing[@]}" >&2
	fi
}
