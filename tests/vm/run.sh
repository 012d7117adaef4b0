#!/bin/bash
# run.sh - run a test payload in a cgroup v2 VM booted from Debian's kernel.
#
# Usage: tests/vm/run.sh [-t SECONDS] [-l LOG] [-m MODULE]... [-v]
#                        SCRIPT [FILE...]
#
#   SCRIPT      shell script run by the VM's /init (busybox sh) as PID 1's
#               child, with cgroup2 on /sys/fs/cgroup and +memory enabled
#               in the root's cgroup.subtree_control
#   FILE...     binaries/scripts put on the VM's PATH (/payload), with
#               their shared libraries
#   -t SECONDS  hard timeout for the whole boot+payload (default
#               $VM_TIMEOUT or 240); qemu is killed on expiry
#   -l LOG      keep the console log at LOG (default: a new temp file)
#   -m MODULE   also load this kernel module in the VM (see initramfs.sh)
#   -v          copy the console to stdout while the VM runs
#
# Environment: VM_ACCEL (tcg; kvm only where nested KVM boots),
# VM_MEM (MiB, 1024), VM_SMP (2), VM_APPEND
# (extra kernel command line), VM_CACHE (see kernel.sh).
#
# The payload prints `RESULT <name> PASS|FAIL|SKIP <why>` lines; /init
# prints VM-DONE when the payload is over. run.sh echoes the RESULT lines,
# the console log path and the time taken.
#
# Exit status:
#   0  VM-DONE seen and no FAIL
#   1  VM-DONE seen, at least one FAIL
#   2  the VM did not finish: timeout, kernel panic, qemu error (the tail
#      of the console is printed)
#   64 usage error

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

usage() {
	vm_log "usage: $VM_PROG [-t SECONDS] [-l LOG] [-m MODULE]... [-v] SCRIPT [FILE...]"
	exit 64
}

# run_qemu VMLINUZ INITRD LOG TIMEOUT VERBOSE
# Boots the VM and writes its console to LOG. Returns qemu's exit status,
# or timeout's (124, or 137 when qemu ignored SIGTERM and was killed).
run_qemu() {
	local vmlinuz=$1 initrd=$2 log=$3 limit=$4 verbose=$5 rc=0
	local accel=${VM_ACCEL:-tcg}
	# quiet: the boot messages are not needed on a good run and slow the
	# serial console under TCG. panic=-1 with -no-reboot turns a panic
	# (such as /init dying) into qemu exiting at once instead of a hang.
	local append="console=ttyS0 panic=-1 quiet ${VM_APPEND:-}"
	local cmd=(
		timeout --kill-after=10 "$limit"
		qemu-system-x86_64 -accel "$accel"
		-m "${VM_MEM:-1024}" -smp "${VM_SMP:-2}"
		-nographic -no-reboot
		# No network: it is not needed, and without a NIC the firmware
		# skips its iPXE boot ROM.
		-nic none
		-kernel "$vmlinuz" -initrd "$initrd" -append "$append"
	)

	# qemu must not read the terminal: stdin is /dev/null.
	if [ "$verbose" = 1 ]; then
		"${cmd[@]}" </dev/null 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
	else
		"${cmd[@]}" </dev/null >"$log" 2>&1 || rc=$?
	fi
	return "$rc"
}

# run_report LOG CLEAN QEMU_STATUS SECONDS TIMEOUT
# Prints the results and returns run.sh's exit status. CLEAN is a scratch
# file for the readable copy of LOG: grep reads files, not a pipe from
# printf, which `grep -q` could end with SIGPIPE on a long log.
run_report() {
	local log=$1 clean=$2 qemu_rc=$3 secs=$4 limit=$5 fails

	# The serial console ends lines with \r\n, and the firmware clears
	# the screen with escape sequences; neither helps a reader.
	tr -d '\r' <"$log" | sed 's/\x1bc//g; s/\x1b\[[0-9;?]*[A-Za-z]//g' >"$clean"
	grep '^RESULT ' "$clean" || true
	grep -E '^VM-(START|DONE) ' "$clean" || true
	vm_log "console log: $log"
	vm_log "boot + payload took ${secs}s"

	if ! grep -q '^VM-DONE' "$clean"; then
		case "$qemu_rc" in
		124 | 137) vm_log "VM timed out after ${limit}s; qemu killed" ;;
		*) vm_log "VM ended without VM-DONE (qemu exit status $qemu_rc)" ;;
		esac
		vm_log "console tail:"
		tail -n 40 "$clean" >&2
		return 2
	fi
	fails=$(grep -c '^RESULT [^ ]* FAIL' "$clean" || true)
	if [ "$fails" -gt 0 ]; then
		vm_log "$fails FAIL result(s)"
		return 1
	fi
	return 0
}

main() {
	local limit=${VM_TIMEOUT:-240} log="" verbose=0 modules=() opt
	local script vmlinuz work start end secs qemu_rc=0 mod_args=() mod

	while getopts t:l:m:v opt; do
		case "$opt" in
		t) limit=$OPTARG ;;
		l) log=$OPTARG ;;
		m) modules+=("$OPTARG") ;;
		v) verbose=1 ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ "$#" -ge 1 ] || usage
	script=$1
	shift
	[[ "$limit" =~ ^[0-9]+$ ]] || usage

	vmlinuz=$("$here/kernel.sh")
	work=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: work is local
	trap "rm -rf '$work'" EXIT
	[ -n "$log" ] || log=$(mktemp /tmp/oomguard-vm-console.XXXXXX)

	for mod in ${modules[@]+"${modules[@]}"}; do
		mod_args+=(-m "$mod")
	done
	"$here/initramfs.sh" -k "$vmlinuz" -o "$work/initrd.gz" -t "$script" \
		${mod_args[@]+"${mod_args[@]}"} "$@"

	start=$(date +%s%N)
	run_qemu "$vmlinuz" "$work/initrd.gz" "$log" "$limit" "$verbose" || qemu_rc=$?
	end=$(date +%s%N)
	secs=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.1f", ns / 1e9 }')

	run_report "$log" "$work/console.txt" "$qemu_rc" "$secs" "$limit"
}

main "$@"
