#!/bin/bash
# The container as the other tests need it, and the scenario they rely on:
#  - a unit with MemoryMax= gets a v1 memory cgroup (hybrid host: memory
#    on v1, a unified tree without controllers beside it) at the path its
#    ControlGroup property names, with memory.limit_in_bytes set;
#  - the journal works and attributes a service's lines to its unit
#    (_SYSTEMD_UNIT), which the other tests query by;
#  - control: testsvc alone (oomguard@testsvc masked) is OOM-killed by the
#    kernel within seconds, so the tests where it survives show oomguard's
#    doing.
# Run by run.sh, which starts the container and installs the files.
source "$(dirname "$0")/test.sh"

sd_reset || t_fail "harness: set-up" "cannot stop the units or write the test files"

# 1. A memory cgroup with the limit, where systemd says it is.
probe=og-harness-probe.service
if sd 30 systemd-run -q --unit "$probe" -p MemoryMax=256M /bin/sleep 600; then
	cg=$(sd_prop "$probe" ControlGroup)
	pid=$(sd_prop "$probe" MainPID)
	# shellcheck disable=SC2016 # awk's fields
	memcg=$(sd 10 awk -F: '$2 == "memory" { print $3 }' "/proc/$pid/cgroup")
	limit=$(sd 10 cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes" 2>&1)
	layout=$(sd 10 stat -f -c %T /sys/fs/cgroup/memory /sys/fs/cgroup/unified 2>/dev/null | tr '\n' ' ')
	if [[ $limit == 268435456 && $memcg == "$cg" ]]; then
		t_pass "MemoryMax=256M: $probe is in v1 memory cgroup $cg, memory.limit_in_bytes 268435456 (memory, unified: $layout)"
	else
		t_fail "memory cgroup" "ControlGroup=$cg, pid $pid in memory:$memcg, limit '$limit'"
	fi
	sd 30 systemctl stop "$probe"
else
	t_fail "memory cgroup" "systemd-run -p MemoryMax=256M failed"
fi

# 2. The journal, and a unit's output found by _SYSTEMD_UNIT.
marker="oomguard-harness-$$-$RANDOM"
cursor=$(sd_cursor)
sd 30 systemd-run -q --wait --unit og-harness-log.service /bin/echo "$marker" >/dev/null 2>&1
found=0
# journald writes asynchronously: give it a moment.
# shellcheck disable=SC2317 # called through sd_wait
has_marker() { sd_entries "$cursor" MESSAGE _SYSTEMD_UNIT=og-harness-log.service | grep -qx "$marker"; }
sd_wait 10 has_marker && found=1
if [[ -n $cursor ]] && ((found)); then
	t_pass "journal: a unit's output found by _SYSTEMD_UNIT after a cursor"
else
	t_fail "journal" "cursor '${cursor:0:20}', marker found: $found"
fi

# 3. Control: testsvc without oomguard.
sd 10 systemctl mask -q --runtime "$SD_GUARD"
cursor=$(sd_cursor)
t0=$EPOCHREALTIME
if sd 30 systemctl start "$SD_SVC"; then
	pid=$(sd_prop "$SD_SVC" MainPID)
	# shellcheck disable=SC2317 # called through sd_wait
	restarted() { (($(sd_prop "$SD_SVC" NRestarts) > 0)); }
	if sd_wait 30 restarted; then
		dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
		how=$(sd_messages "$cursor" "$SD_SVC" | grep -m1 -oE 'Main process exited, code=[a-z]+, status=[^ ]+')
		if [[ $how == *"status=9/KILL"* ]]; then
			t_pass "control: without oomguard, testsvc (pid $pid) is killed by SIGKILL (the OOM killer) and restarted, within ${dt}s"
		else
			t_fail "control" "testsvc ended otherwise: '$how'"
		fi
	else
		t_fail "control" "testsvc without oomguard still runs after 30 s: gcsim should have reached its limit"
	fi
else
	t_fail "control" "systemctl start testsvc failed: $(sd_messages "$cursor" "$SD_SVC" | tail -3 | tr '\n' ' ')"
fi
sd_save_journal control "$cursor"
sd_reset
sd 10 systemctl unmask -q --runtime "$SD_GUARD"
exit 0
