#!/bin/bash
# tests/systemd/run.sh: oomguard's systemd sidecar mode under a real
# systemd (systemd 252, Debian bookworm) as PID 1 of a Docker container.
#
#   OOMGUARD=/abs/build/oomguard WORKLOAD_DIR=/abs/build/workload \
#       bash tests/systemd/run.sh
#
#  1. installs what is missing and starts dockerd unless one answers, and
#     makes the local Debian base image, all with tests/docker/lib.sh;
#  2. builds the image (Dockerfile here: systemd, dbus and oomguard's shared
#     libraries from the Debian mirror), tagged by a hash of its inputs and
#     reused while they do not change;
#  3. boots it with systemd as PID 1 (lib.sh, sd_container_up, says how and
#     why) and waits for `systemctl is-system-running` to say running or
#     degraded;
#  4. copies in $OOMGUARD, systemd/oomguard@.service from the tree as it is
#     now (or $OOMGUARD_UNIT), gcsim from $WORKLOAD_DIR and testsvc.service,
#     and enables oomguard@testsvc.service (a result of its own);
#  5. runs each test_*.sh under a timeout, in order, in the same container
#     (each one first stops both units and sets up the files it needs):
#       test_00_harness   the container itself: a MemoryMax= unit gets a v1
#                         memory cgroup with that limit, the journal
#                         attributes lines to units; testsvc without
#                         oomguard is OOM-killed (what the others prevent)
#       test_01_ready     Type=notify start, active, StatusText
#       test_02_gc        gc requests to MainPID in the journal, no OOM kill
#       test_03_restart   SIGTERM at the restart level, systemd restarts
#                         testsvc, oomguard follows the new MainPID
#       test_04_reload    systemctl reload applies new levels
#       test_05_bad_reload a bad file on reload: error with FILE:LINE, old
#                         levels kept
#       test_06_stop      systemctl stop: inactive (not failed), testsvc runs on
#       test_07_security  systemd-analyze security (the score is printed)
#       test_08_signals   the unit followed by systemd's signals: at most
#                         one round of D-Bus calls in 6 s of a quiet unit,
#                         a systemctl restart seen within 5 s, also
#                         after dbus.service restarted
#       test_09_bus_gone  the bus stopped for 10 s: gc requests go on,
#                         the watchdog fed; followed again once it is back
#
# Everything this run started is removed on exit: the container (label
# oomguard-test=<run id>), superseded builds of the image, and dockerd if
# this run started it. Logs (dockerd, image build, each test's journal) are
# kept in the directory printed at the end when something failed, or with
# KEEP_LOGS=1. The last line is "N passed, N failed, N skipped".
#
# Environment: ONLY=NAME runs the test_*NAME*.sh scripts alone (the harness steps always
# run); TEST_TIMEOUT (default 180) bounds each test script; GC_SECS
# (default 20) is how long test_02 watches; OOMGUARD_UNIT is the unit file
# to test (default systemd/oomguard@.service).
#
# Measured on the 2-core build machine with every test passing: about
# 2 min with the image cached, 2.5 min when dockerd must be started and the
# image built (about 30 s of apt). The base image, made once and shared
# with tests/docker, adds about 90 s the very first time.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/lib/testlib.sh"
source "$root/tests/docker/lib.sh"
source "$here/lib.sh"

dk_harness systemd s
OOMGUARD_UNIT=${OOMGUARD_UNIT:-$root/systemd/oomguard@.service}

# host_cgroup_mounts: the host's cgroup mounts with their superblock
# options, and what /sys/fs/cgroup holds. A systemd that reached the host's
# cgroup tmpfs would change these (see lib.sh, sd_container_up).
host_cgroup_mounts() {
	awk '$5 ~ "^/sys/fs/cgroup" { sep = $0; sub(/.* - /, "", sep); print $5, sep }' /proc/self/mountinfo
	ls -A /sys/fs/cgroup
}
host_before=$(host_cgroup_mounts)

# host_unchanged: the check dk_finish runs after the cleanup.
# shellcheck disable=SC2317 # called through dk_finish
host_unchanged() {
	if [[ $(host_cgroup_mounts) != "$host_before" ]]; then
		t_fail "host cgroup mounts" "changed during the run: $(diff <(printf '%s\n' "$host_before") <(host_cgroup_mounts) | tr '\n' ' ')"
	fi
}

for v in OOMGUARD WORKLOAD_DIR; do
	if [[ -z ${!v:-} ]]; then
		echo "usage: OOMGUARD=/abs/path/oomguard WORKLOAD_DIR=/abs/path/workload bash $0" >&2
		t_fail "arguments" "$v is not set"
		dk_finish host_unchanged
	fi
done
for f in "$OOMGUARD" "$WORKLOAD_DIR/gcsim" "$OOMGUARD_UNIT"; do
	if [[ ! -f $f ]]; then
		t_fail "arguments" "$f does not exist"
		dk_finish host_unchanged
	fi
done
export OOMGUARD WORKLOAD_DIR

if ((EUID != 0)); then
	t_skip "systemd suite" "needs root (dockerd, debootstrap)"
	dk_finish host_unchanged
fi

dk_engine_ready || dk_finish host_unchanged

dk_phase "image"
if ! sd_image; then
	t_fail "image" "docker build failed (log in $DK_LOGDIR)"
	dk_finish host_unchanged
fi

dk_phase "container"
missing=$(sd_missing_caps)
[[ -n $missing ]] && echo "capabilities this host cannot grant (not given to the container): $missing"
t0=$SECONDS
if sd_container_up; then
	export SD_CTR
	t_pass "systemd $(sd 10 systemctl --version | awk 'NR == 1 { print $2 }') is PID 1 ($(sd 10 cat /proc/1/comm)) and booted to '$SD_BOOT_STATE' in $((SECONDS - t0))s"
	if [[ $SD_BOOT_STATE == degraded ]]; then
		echo "failed units:"
		sd 10 systemctl --failed --no-legend --no-pager | sed 's/^/  /'
	fi
else
	t_fail "systemd boot" "see the messages above"
	dk_finish host_unchanged
fi

dk_phase "install"
if sd_install "$OOMGUARD_UNIT" "$here/testsvc.service"; then
	t_pass "oomguard, gcsim, oomguard@.service ($(realpath --relative-to="$root" "$OOMGUARD_UNIT" 2>/dev/null || echo "$OOMGUARD_UNIT")) and testsvc.service installed"
else
	t_fail "install" "docker cp, a missing library or daemon-reload failed"
	dk_finish host_unchanged
fi
# The tests start oomguard@testsvc themselves; enabling it is a check of
# the unit file's [Install] section, not something they depend on.
if out=$(sd 30 systemctl enable "$SD_GUARD" 2>&1); then
	# shellcheck disable=SC2016 # expanded by the container's shell
	t_pass "systemctl enable $SD_GUARD: $(sd 10 sh -c 'cd /etc/systemd/system && ls -d -- */"$1"' sh "$SD_GUARD" | paste -sd ' ')"
else
	t_fail "enable" "systemctl enable $SD_GUARD: $out"
fi

for t in "$here"/test_*.sh; do
	name=$(basename "$t" .sh)
	[[ -n ${ONLY:-} && $name != *"$ONLY"* ]] && continue
	dk_phase "$name"
	t_timeout "${TEST_TIMEOUT:-180}" bash "$t"
	rc=$?
	((rc == 124)) && t_fail "$name" "timed out after ${TEST_TIMEOUT:-180}s"
	((rc != 0 && rc != 124)) && t_fail "$name" "exited with status $rc"
done
dk_finish host_unchanged
