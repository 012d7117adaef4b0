#!/bin/sh
# t-knobs.sh - the v2 knobs oomguard writes: [gc] reclaim (memory.reclaim)
# and [watch] high (memory.high), and what happens when the cgroupfs is
# read-only, as in an ordinary container.
#  1. [gc] reclaim = 64M: gcsim's 13 MiB live set, then 80 MiB of clean
#     page cache (read from a RAM disk) in a 128M cgroup, gc.at 50%, metric
#     usage; beside it, at the same time, the same without the reclaim.
#     The gc request must come with a reclaim (its log line), and the page
#     cache the reclaim acts on must end below the control's. A fixed drop
#     of the usage is no guarantee: the app allocates while the kernel
#     reclaims. The same with an app that does not catch SIGUSR1 (hold):
#     no signal, but the reclaim all the same, since memory.reclaim needs
#     no help from the app.
#  2. [watch] high = 100M: gcsim ignores gc requests and grows toward
#     memory.max 128M. Without the knob the kernel OOM-kills it (control);
#     with it oomguard sets memory.high, the kernel throttles gcsim there
#     (high counter up, no oom_kill), and the old memory.high is put back
#     when oomguard exits.
#  3. [watch] high = auto: the restart level (90% of 128M), over a
#     memory.high of 120M that must be restored.
#  4. A read-only cgroupfs (bind mount, private mount namespace): memory.high
#     and memory.reclaim cannot be written, which oomguard says once, and gc
#     requests driven by polling and inotify still keep gcsim alive.

. /payload/vmlib.sh

# 1. [gc] reclaim. brd was loaded at boot with its defaults (16 MiB disks);
# one 192 MiB disk holds the two 80 MiB regions the runs read side by side
# (a page of the disk's cache is charged to the first cgroup that reads
# it). The page cache of a block device is dropped at its last close, so a
# process outside the cgroups keeps it open.
# reclaim_start NAME SKIP_MIB RECLAIM APP...: oomguard (reclaim RECLAIM,
# metric usage, gc.at 50% of 128M) runs APP in cgroup NAME; after a second
# 80 MiB of the RAM disk from SKIP_MIB are read inside the cgroup, which
# takes the usage over gc.at. Sets RUN_OG and RUN_DD (the reader's pid)
# and RUN_DIR.
reclaim_start() {
	_n=$1 _skip=$2 _reclaim=$3
	shift 3
	RUN_DIR=$(cg_new "$_n" 128M) || return 1
	cg_spawn "$RUN_DIR" "$TMP/$_n.log" env OOMGUARD_GC_RECLAIM="$_reclaim" \
		OOMGUARD_WATCH_METRIC=usage OOMGUARD_GC_REARM_BELOW=40% \
		oomguard --gc-at 50% --restart-at none --kill-at none -- "$@"
	RUN_OG=$SPAWNED
}
reclaim_read() { # DIR SKIP_MIB
	(echo 0 >"$1/cgroup.procs" &&
		exec dd if=/dev/ram0 of=/dev/null bs=1M skip="$2" count=80 2>/dev/null) &
	RUN_DD=$!
}
# reclaim_pair NAME APP...: NAME with [gc] reclaim = 64M and NAME-control
# without it, side by side. Prints "FILE_MIB USAGE_MIB CONTROL_FILE_MIB
# CONTROL_USAGE_MIB", read at one moment once both readers are done and
# NAME logged its reclaim (or 20 s passed).
reclaim_pair() {
	_p=$1
	shift
	# The disk's pages cached by an earlier pair would be hits, charged
	# to nobody.
	sync
	echo 1 >/proc/sys/vm/drop_caches
	reclaim_start "$_p" 0 64M "$@" || return 1
	_og1=$RUN_OG _dir1=$RUN_DIR
	reclaim_start "$_p-control" 96 none "$@" || return 1
	_og2=$RUN_OG _dir2=$RUN_DIR
	usleep 1000000
	reclaim_read "$_dir1" 0
	_dd1=$RUN_DD
	reclaim_read "$_dir2" 96
	wait "$_dd1" "$RUN_DD"
	wait_line 200 "$TMP/$_p.log" 'reclaim: '
	_f1=$(sed -n 's/^file //p' "$_dir1/memory.stat") _u1=$(cat "$_dir1/memory.current")
	_f2=$(sed -n 's/^file //p' "$_dir2/memory.stat") _u2=$(cat "$_dir2/memory.current")
	for _og in "$_og1" "$_og2"; do
		kill -TERM "$_og"
		wait_pid 50 "$_og"
	done
	cg_destroy "$_dir1"
	cg_destroy "$_dir2"
	echo "page cache $_f1, usage $_u1; control: page cache $_f2, usage $_u2" >>"$TMP/$_p.log"
	echo $((_f1 >> 20)) $((_u1 >> 20)) $((_f2 >> 20)) $((_u2 >> 20))
}
# reclaim_check NAME PAIR WHY FILE USAGE CONTROL_FILE CONTROL_USAGE: the
# reclaim was asked for in PAIR's run and its page cache ended below the
# control's.
reclaim_check() {
	_n=$1 _p=$2 _why=$3
	shift 3
	_asked=$(grep -m1 'reclaim: ' "$TMP/$_p.log" | cut -c26-)
	if [ -n "$_asked" ] && [ -n "${3:-}" ] && [ "$1" -lt "$3" ]; then
		pass "$_n" "$_why; $_asked; page cache ${1} MiB against ${3} MiB without the reclaim (usage ${2} against ${4} MiB)"
		return 0
	fi
	fail "$_n" "$_why: want a reclaim line and the page cache below the control's, got '${_asked:-no reclaim}', page cache ${1:-?} MiB against ${3:-?} MiB" \
		-- "$TMP/$_p.log" "$TMP/$_p-control.log"
	return 1
}
if ! { rmmod brd && insmod /lib/modules/brd.ko rd_nr=1 rd_size=196608; } 2>"$TMP/brd.err"; then
	fail v2-knobs-reclaim "cannot load brd with one 192 MiB RAM disk" -- "$TMP/brd.err"
else
	# shellcheck disable=SC2217 # the open descriptor is the point
	sleep 1000 </dev/ram0 &
	opener=$!
	# An app that frees memory on SIGUSR1 (gcsim, 13 MiB live).
	# shellcheck disable=SC2046 # split into the words it prints
	set -- $(reclaim_pair reclaim gcsim --live 10 --garbage-ratio 1.0)
	if grep -q 'gc: .*SIGUSR1 to pid [0-9]*: sent' "$TMP/reclaim.log"; then
		reclaim_check v2-knobs-reclaim reclaim "gc request sent" "$@"
	else
		fail v2-knobs-reclaim "want a gc request (SIGUSR1 sent)" -- "$TMP/reclaim.log"
	fi
	# An app without a SIGUSR1 handler (hold): no gc signal may go out
	# (require_handler), but memory.reclaim needs no help from the app.
	# shellcheck disable=SC2046 # split into the words it prints
	set -- $(reclaim_pair reclaim-nohandler hold 8)
	if ! grep -q 'SIGUSR1 to pid' "$TMP/reclaim-nohandler.log"; then
		reclaim_check v2-knobs-reclaim-nohandler reclaim-nohandler "app without a handler: no SIGUSR1" "$@"
	else
		fail v2-knobs-reclaim-nohandler "app without a SIGUSR1 handler above gc.at: a SIGUSR1 went out" -- "$TMP/reclaim-nohandler.log"
	fi
	kill "$opener"
fi

# 2. [watch] high = 100M against a control without it.
# grower NAME [ENV...]: gcsim that ignores gc requests, 128M, gc.at 75%, no
# restart or kill level, for 3 s; log $TMP/NAME.log. Prints
# "oom_kill high memory.high-while-running".
grower() {
	_n=$1
	shift
	_dir=$(cg_new "$_n" 128M) || return 1
	cg_spawn "$_dir" "$TMP/$_n.log" env "$@" oomguard --restart-at none --kill-at none \
		-- gcsim --usr1 catch --rate 64
	_og=$SPAWNED
	usleep 3000000
	_set=$(cat "$_dir/memory.high")
	# Without [watch] high oomguard has exited with the OOM-killed app.
	kill -TERM "$_og" 2>/dev/null
	wait_pid 50 "$_og"
	echo "oomguard exit $WAITED; memory.high $_set while running, $(cat "$_dir/memory.high") after" >>"$TMP/$_n.log"
	echo "$(ev "$_dir" oom_kill) $(ev "$_dir" high) $_set $(cat "$_dir/memory.high")"
	cg_destroy "$_dir"
}
# shellcheck disable=SC2046 # split into the words it prints
set -- $(grower high-control)
if [ "${1:-0}" -ge 1 ]; then
	pass v2-knobs-high-control "without [watch] high gcsim reaches memory.max: OOM-killed ($1)"
else
	fail v2-knobs-high-control "oom_kill ${1:-?}: want >= 1" -- "$TMP/high-control.log"
fi
# shellcheck disable=SC2046 # split into the words it prints
set -- $(grower high-size OOMGUARD_WATCH_HIGH=100M)
if [ "${1:-x}" = 0 ] && [ "${2:-0}" -gt 0 ] && [ "${3:-}" = 104857600 ] && [ "${4:-}" = max ] &&
	grep -q 'memory.high set to 100.0MiB (was max)' "$TMP/high-size.log"; then
	pass v2-knobs-high "[watch] high 100M: memory.high 104857600 while watching, throttled (high $2), no oom_kill; 'max' restored at exit"
else
	fail v2-knobs-high "oom_kill ${1:-?} (want 0), high ${2:-?} (want > 0), memory.high ${3:-?} while running (want 104857600), ${4:-?} after (want max)" -- "$TMP/high-size.log"
fi

# 3. [watch] high = auto, restoring a value of its own.
dir=$(cg_new high-auto 128M 120M) || exit 1
cg_spawn "$dir" "$TMP/high-auto.log" env OOMGUARD_WATCH_HIGH=auto oomguard -- hold 8
og=$SPAWNED
wait_line 50 "$TMP/high-auto.log" 'memory.high set'
set_to=$(cat "$dir/memory.high")
kill -TERM "$og"
wait_pid 50 "$og"
after=$(cat "$dir/memory.high")
# 90% of 128M is 120795955 bytes; the kernel keeps whole pages.
if grep -q 'memory.high set to 115.2MiB (was 125829120)' "$TMP/high-auto.log" &&
	[ "$set_to" -le 120795955 ] && [ "$set_to" -gt $((120795955 - 4096)) ] &&
	[ "$after" = 125829120 ]; then
	pass v2-knobs-high-auto "auto: memory.high $set_to (the restart level), 125829120 (120M) restored"
else
	fail v2-knobs-high-auto "memory.high $set_to while running (want ~120795955), $after after (want 125829120)" -- "$TMP/high-auto.log"
fi
cg_destroy "$dir"

# 4. Read-only cgroupfs.
dir=$(cg_new ro 256M) || exit 1
cg_spawn "$dir" "$TMP/ro.log" env OOMGUARD_WATCH_HIGH=auto OOMGUARD_GC_RECLAIM=16M \
	unshare -m sh -c 'mount --bind /sys/fs/cgroup /sys/fs/cgroup &&
		mount -o remount,bind,ro /sys/fs/cgroup &&
		exec oomguard --gc-at 75% -- gcsim --rate 64 --duration 5'
wait_pid 250 "$SPAWNED"
oom=$(ev "$dir" oom_kill)
if [ "$WAITED" = 0 ] && [ "$oom" = 0 ] &&
	grep -q 'cannot set memory.high of .*Read-only file system' "$TMP/ro.log" &&
	grep -q 'gc: .*SIGUSR1 to pid [0-9]*: sent' "$TMP/ro.log"; then
	pass v2-knobs-readonly "read-only cgroupfs: memory.high refused and said so; gc requests keep gcsim alive for 5 s"
else
	fail v2-knobs-readonly "exit $WAITED (want 0), oom_kill $oom (want 0), want the memory.high refusal and gc requests" -- "$TMP/ro.log"
fi
n=$(grep -c 'reclaim .*failed' "$TMP/ro.log")
if [ "$n" -le 1 ]; then
	pass v2-knobs-readonly-reclaim "a refused memory.reclaim is logged at most once ($n)"
else
	fail v2-knobs-readonly-reclaim "'reclaim ... failed' logged $n times, with every gc request" -- "$TMP/ro.log"
fi
cg_destroy "$dir"
