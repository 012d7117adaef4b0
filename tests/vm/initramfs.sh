#!/bin/bash
# initramfs.sh - build the initramfs of the cgroup v2 test VM.
#
# Usage: tests/vm/initramfs.sh -k VMLINUZ -o OUT.cpio.gz -t TEST_SCRIPT
#                              [-m MODULE]... [FILE...]
#
#   -k VMLINUZ     the kernel from kernel.sh; its unpacked package tree gives
#                  the kernel config and the modules
#   -o OUT         where to write the gzip'd newc cpio archive
#   -t SCRIPT      the test payload, run by /init as `sh /payload/test`
#   -m MODULE      a kernel module to load before the payload (with the
#                  modules it depends on); may be repeated
#   FILE...        binaries and scripts copied to /payload (on PATH in the
#                  VM), each with the shared libraries ldd says it needs
#
# The archive holds busybox-static, the files, their libraries, the modules,
# and an /init that mounts proc, sysfs, devtmpfs and cgroup2, enables the
# memory controller for the root's children, runs the payload, prints
# VM-DONE and powers off. The payload reports with lines of the form
# `RESULT <name> PASS|FAIL|SKIP <why>` (helper: vm-result) and hands files
# out on the console with vm-emit (read back by extract.sh).
#
# Exit status: 0 on success, 1 on any failure (message on stderr).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

# Kernel options the VM cannot work without. Each entry is OPTION:MODULE;
# MODULE is the module that provides the option when Debian builds it as
# `=m`, or `-` for options that can only be built in. Debian 12's kernel
# has all of these built in, so today no module is loaded; the table makes
# a future kernel that moves one into a module load it instead of failing
# in the dark.
REQUIRED_CONFIG=(
	CONFIG_BLK_DEV_INITRD:-
	CONFIG_RD_GZIP:-
	CONFIG_DEVTMPFS:-
	CONFIG_PROC_FS:-
	CONFIG_SYSFS:-
	CONFIG_TMPFS:-
	CONFIG_BINFMT_ELF:-
	CONFIG_BINFMT_SCRIPT:binfmt_script
	CONFIG_SERIAL_8250:8250
	CONFIG_SERIAL_8250_CONSOLE:-
	CONFIG_CGROUPS:-
	CONFIG_MEMCG:-
	CONFIG_PSI:-
	CONFIG_INOTIFY_USER:-
)

usage() {
	vm_die "usage: $VM_PROG -k VMLINUZ -o OUT -t TEST_SCRIPT [-m MODULE]... [FILE...]"
}

# initramfs_check_config CONFIG_FILE
# Prints the modules needed for REQUIRED_CONFIG options built as modules;
# dies on a required option that is missing altogether.
initramfs_check_config() {
	local config=$1 entry opt mod value

	for entry in "${REQUIRED_CONFIG[@]}"; do
		opt=${entry%%:*}
		mod=${entry#*:}
		value=$(sed -n "s/^$opt=//p" "$config")
		case "$value" in
		y) ;;
		m)
			[ "$mod" != - ] || vm_die "$opt=m but no module is known for it"
			printf '%s\n' "$mod"
			;;
		*) vm_die "$config: $opt is not set; the VM cannot work without it" ;;
		esac
	done
	if grep -q '^CONFIG_PSI_DEFAULT_DISABLED=y' "$config"; then
		vm_log "warning: PSI is off by default in this kernel; boot with psi=1 (VM_APPEND) to test it"
	fi
}

# initramfs_find_module MODDIR NAME
# Prints the path of module NAME. Module names treat - and _ as the same.
initramfs_find_module() {
	local moddir=$1 name=$2 found

	found=$(find "$moddir" \( -name "${name//-/_}.ko*" -o -name "${name//_/-}.ko*" \) \
		-print -quit)
	[ -n "$found" ] || vm_die "module $name not found under $moddir"
	printf '%s\n' "$found"
}

# initramfs_module_depends KO
# Prints the names in the module's depends= tag, one a line. The unpacked
# package has no modules.dep (depmod runs at install time), so the tag in
# the module itself is the source.
initramfs_module_depends() {
	local ko=$1 plain status=0

	plain=$(mktemp)
	initramfs_decompress "$ko" "$plain"
	objcopy -O binary --only-section=.modinfo "$plain" /dev/stdout |
		tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' '\n' |
		sed '/^$/d' || status=$?
	rm -f "$plain"
	return "$status"
}

# initramfs_decompress KO DEST
# Writes the uncompressed module to DEST; busybox insmod takes plain .ko.
initramfs_decompress() {
	case "$1" in
	*.ko) cp "$1" "$2" ;;
	*.ko.xz) xz -dc "$1" >"$2" ;;
	*.ko.zst) zstd -qdc "$1" >"$2" ;;
	*.ko.gz) gzip -dc "$1" >"$2" ;;
	*) vm_die "unknown module format: $1" ;;
	esac
}

# initramfs_add_module MODDIR ROOT NAME
# Copies module NAME and, first, everything it depends on into ROOT, and
# appends each to ROOT/etc/vm-modules in load order. A module already
# listed is skipped, which also ends dependency cycles.
initramfs_add_module() {
	local moddir=$1 root=$2 name=${3//-/_} ko deps dep

	grep -qx "$name.ko" "$root/etc/vm-modules" && return 0
	# Assignments, not inline $(...), so a failure stops the build.
	ko=$(initramfs_find_module "$moddir" "$name")
	deps=$(initramfs_module_depends "$ko")
	for dep in $deps; do
		initramfs_add_module "$moddir" "$root" "$dep"
	done
	initramfs_decompress "$ko" "$root/lib/modules/$name.ko"
	printf '%s.ko\n' "$name" >>"$root/etc/vm-modules"
}

# initramfs_add_busybox ROOT
# Installs busybox-static. /init creates the applet links at boot with
# `busybox --install -s`: in-process there, against a fork per applet
# (about 1 s) here.
initramfs_add_busybox() {
	local root=$1 busybox=/bin/busybox

	# busybox-static installs /bin/busybox; the dynamic busybox package
	# uses the same path, so make sure this one needs no libraries.
	if ldd "$busybox" >/dev/null 2>&1; then
		vm_die "$busybox is dynamically linked; install busybox-static"
	fi
	cp "$busybox" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
}

# initramfs_add_libs ROOT FILE
# Copies the shared libraries FILE needs, the dynamic loader included, to
# the same absolute paths inside ROOT. Static binaries and scripts need
# none; ldd fails on them, which is fine.
initramfs_add_libs() {
	local root=$1 file=$2 lib

	for lib in $(ldd "$file" 2>/dev/null |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# initramfs_add_file ROOT FILE
# Copies FILE to ROOT/payload under its own name, with its libraries.
initramfs_add_file() {
	local root=$1 file=$2 dest

	[ -f "$file" ] || vm_die "no such file: $file"
	dest=$root/payload/$(basename "$file")
	[ -e "$dest" ] && vm_die "two files named $(basename "$file") in the payload"
	cp -L "$file" "$dest"
	initramfs_add_libs "$root" "$file"
}

# initramfs_write_helpers ROOT
# Writes /init and the payload's helper commands.
initramfs_write_helpers() {
	local root=$1

	cat >"$root/init" <<'EOF'
#!/bin/sh
# PID 1 of the oomguard test VM (written by tests/vm/initramfs.sh).
# Sets up a cgroup v2 machine, runs /payload/test, powers off. Whatever
# fails, VM-DONE is printed and the VM powers off, so the host side tells
# a failed test (FAIL lines) from a hung or crashed VM (no VM-DONE).
export PATH=/payload:/bin
export HOME=/ TMPDIR=/tmp

vm_setup() {
	# --install needs /proc/self/exe to find busybox.
	/bin/busybox mount -t proc proc /proc &&
	/bin/busybox --install -s /bin &&
	mount -t sysfs sysfs /sys &&
	mount -t devtmpfs devtmpfs /dev &&
	mount -t cgroup2 cgroup2 /sys/fs/cgroup || return 1
	while read -r ko; do
		insmod "/lib/modules/$ko" || { echo "insmod $ko failed"; return 1; }
	done </etc/vm-modules
	# Children of the root can only get memory.* files once the root
	# hands them the controller.
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control
}

if vm_setup; then
	# Kernel messages (an OOM kill, say) would land in the middle of the
	# payload's output on the same serial console; keep only emergencies.
	dmesg -n 1
	# The firmware's escape codes precede us on the console without a
	# newline; start on a fresh line so the host's ^VM- patterns match.
	echo
	echo "VM-START kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)"
	cd /payload
	sh /payload/test
	rc=$?
	[ "$rc" -eq 0 ] ||
		vm-result payload-exit FAIL "/payload/test exited with status $rc"
else
	vm-result vm-setup FAIL "mounting proc/sys/dev/cgroup2 or enabling +memory failed"
fi
echo "VM-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
EOF

	cat >"$root/bin/vm-result" <<'EOF'
#!/bin/sh
# vm-result NAME PASS|FAIL|SKIP WHY...: one result line for tests/vm/run.sh.
[ "$#" -ge 2 ] || { echo "usage: vm-result NAME PASS|FAIL|SKIP WHY" >&2; exit 2; }
name=$1 status=$2
shift 2
case "$status" in PASS|FAIL|SKIP) ;; *) echo "vm-result: bad status $status" >&2; exit 2 ;; esac
echo "RESULT $name $status $*"
EOF

	cat >"$root/bin/vm-emit" <<'EOF'
#!/bin/sh
# vm-emit SRC [NAME]: print file SRC on the console for tests/vm/extract.sh,
# to be saved as NAME (default SRC without its leading /). The file is
# copied first so the size, checksum and contents describe one snapshot:
# cgroup files change between two reads.
src=$1 name=${2:-${1#/}}
tmp=$(mktemp) || exit 1
if ! cat "$src" >"$tmp"; then
	rm -f "$tmp"
	echo "vm-emit: cannot read $src" >&2
	exit 1
fi
set -- $(md5sum "$tmp")
echo "=== FILE $name $(wc -c <"$tmp") $1"
base64 "$tmp"
echo "=== END"
rm -f "$tmp"
EOF
	chmod 755 "$root/init" "$root/bin/vm-result" "$root/bin/vm-emit"
}

# initramfs_pack ROOT OUT
# Writes ROOT as a gzip'd newc cpio archive, every file owned by root.
initramfs_pack() {
	local root=$1 out=$2

	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null --create --format=newc --owner=0:0 --quiet) |
		gzip -1 >"$out.tmp"
	mv "$out.tmp" "$out"
}

main() {
	local vmlinuz="" out="" test_script="" modules=() opt
	local kroot kver config moddir root needed mod file

	while getopts k:o:t:m: opt; do
		case "$opt" in
		k) vmlinuz=$OPTARG ;;
		o) out=$OPTARG ;;
		t) test_script=$OPTARG ;;
		m) modules+=("$OPTARG") ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	if [ -z "$vmlinuz" ] || [ -z "$out" ] || [ -z "$test_script" ]; then
		usage
	fi
	[ -f "$test_script" ] || vm_die "no such test script: $test_script"

	# The vmlinuz sits in boot/ of the unpacked package tree.
	kroot=$(cd "$(dirname "$vmlinuz")/.." && pwd)
	kver=$(basename "$vmlinuz")
	kver=${kver#vmlinuz-}
	config=$kroot/boot/config-$kver
	moddir=$kroot/lib/modules/$kver
	[ -f "$config" ] || vm_die "no kernel config at $config"

	root=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: root is local
	trap "rm -rf '$root'" EXIT
	mkdir -p "$root"/{bin,dev,etc,lib/modules,payload,proc,sys,tmp}
	chmod 1777 "$root/tmp"
	: >"$root/etc/vm-modules"

	needed=$(initramfs_check_config "$config")
	for mod in $needed ${modules[@]+"${modules[@]}"}; do
		initramfs_add_module "$moddir" "$root" "$mod"
	done
	initramfs_add_busybox "$root"
	for file in "$@"; do
		initramfs_add_file "$root" "$file"
	done
	cp "$test_script" "$root/payload/test"
	initramfs_write_helpers "$root"
	initramfs_pack "$root" "$out"
}

main "$@"
