#!/bin/sh
# PID 1 of the test container until it execs systemd (so systemd is PID 1).
#
# Without --privileged, Docker mounts every cgroup hierarchy read-only (the
# per-mount "ro" flag; the superblocks stay rw). systemd can then track its
# units in the unified tree but cannot create the v1 memory cgroups that
# MemoryMax= needs. The container runs in a private cgroup namespace with
# CAP_SYS_ADMIN, so the mounts can simply be made writable here: they show
# only the container's own subtree of each hierarchy, never the host's.
for dir in /sys/fs/cgroup/*; do
	if mountpoint -q "$dir"; then
		mount -o remount,bind,rw "$dir" || echo "oomguard-test-init: cannot make $dir writable" >&2
	fi
done
exec /sbin/init "$@"
