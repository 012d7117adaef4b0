#!/bin/bash
# extract.sh - turn the files a VM printed with vm-emit back into files.
#
# Usage: tests/vm/extract.sh LOG DESTDIR
#
# LOG is a console log from run.sh. Each file in it reads
#   === FILE <name> <size> <md5>
#   <base64 lines>
#   === END
# and is written to DESTDIR/<name>, after its size and md5 are checked:
# a kernel message or a second writer on the console can cut into a block,
# and such a file must be refused, not saved half right. Prints each path
# written.
#
# Exit status: 0 when every block was intact and written, 1 otherwise (the
# intact ones are still written), 64 on a usage error.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

# extract_block DESTDIR NAME SIZE MD5 BASE64_FILE
# Decodes one block and writes it to DESTDIR/NAME if it checks out.
extract_block() {
	local destdir=$1 name=$2 size=$3 md5=$4 b64=$5 data got_size got_md5

	case "$name" in
	/* | ../* | */../* | */.. | ..)
		vm_log "refusing file name $name"
		return 1
		;;
	esac
	data=$(mktemp)
	if ! base64 -d <"$b64" >"$data" 2>/dev/null; then
		vm_log "$name: bad base64"
		rm -f "$data"
		return 1
	fi
	got_size=$(wc -c <"$data")
	got_md5=$(md5sum "$data" | cut -d' ' -f1)
	if [ "$got_size" != "$size" ] || [ "$got_md5" != "$md5" ]; then
		vm_log "$name: got $got_size bytes md5 $got_md5, expected $size bytes md5 $md5"
		rm -f "$data"
		return 1
	fi
	mkdir -p "$(dirname "$destdir/$name")"
	mv "$data" "$destdir/$name"
	chmod 644 "$destdir/$name"
	printf '%s\n' "$destdir/$name"
}

main() {
	local log destdir b64 line name="" size md5 status=0

	[ "$#" -eq 2 ] || {
		vm_log "usage: $VM_PROG LOG DESTDIR"
		exit 64
	}
	log=$1
	destdir=$2
	[ -r "$log" ] || vm_die "cannot read $log"
	mkdir -p "$destdir"
	b64=$(mktemp)
	# shellcheck disable=SC2064 # expand now: b64 is local
	trap "rm -f '$b64'" EXIT

	# The serial console ends lines with \r\n.
	while IFS= read -r line; do
		line=${line%$'\r'}
		case "$line" in
		"=== FILE "*)
			[ -z "$name" ] || {
				vm_log "$name: no === END before the next file"
				status=1
			}
			read -r _ _ name size md5 <<<"$line"
			: >"$b64"
			;;
		"=== END")
			if [ -n "$name" ]; then
				extract_block "$destdir" "$name" "$size" "$md5" "$b64" ||
					status=1
			fi
			name=""
			;;
		*)
			[ -z "$name" ] || printf '%s\n' "$line" >>"$b64"
			;;
		esac
	done <"$log"
	if [ -n "$name" ]; then
		vm_log "$name: log ends inside the block"
		status=1
	fi
	return "$status"
}

main "$@"
