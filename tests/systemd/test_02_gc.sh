#!/bin/bash
# 2. GC requests: testsvc as installed (gcsim keeping 60% of its 256M live,
# growing to 120% unless asked to collect) runs GC_SECS seconds beside
# oomguard@testsvc with the default configuration. oomguard's journal
# must hold gc requests (OOMGUARD_LEVEL=gc, OOMGUARD_ACTION=SIGUSR1,
# OOMGUARD_OUTCOME=sent) to testsvc's MainPID, and testsvc must not be
# OOM-killed (test_00's control shows it is within seconds without
# oomguard): same MainPID, NRestarts unchanged, oom_kill 0 in its v1
# memory cgroup.
source "$(dirname "$0")/test.sh"
secs=${GC_SECS:-20}

sd_begin gc 02_gc || exit 0
pid=$(sd_prop "$SD_SVC" MainPID)
restarts=$(sd_prop "$SD_SVC" NRestarts)
wd0=$(sd_prop "$SD_GUARD" WatchdogTimestampMonotonic)
cg=$(sd_prop "$SD_SVC" ControlGroup)

# Watch, and stop early if testsvc dies: no point in waiting then.
changed=
end=$((SECONDS + secs))
while ((SECONDS < end)); do
	sleep 1
	now=$(sd_prop "$SD_SVC" MainPID)
	if [[ $now != "$pid" ]]; then
		changed="MainPID $pid became $now after $((secs - (end - SECONDS)))s"
		break
	fi
done
# shellcheck disable=SC2016 # awk's fields
oom_kill=$(sd 10 awk '$1 == "oom_kill" { print $2 }' "/sys/fs/cgroup/memory$cg/memory.oom_control" 2>/dev/null)
peak=$(sd 10 cat "/sys/fs/cgroup/memory$cg/memory.max_usage_in_bytes" 2>/dev/null)
state=$(sd_prop "$SD_SVC" ActiveState)
restarts_now=$(sd_prop "$SD_SVC" NRestarts)
guard=$(sd_prop "$SD_GUARD" ActiveState)
wd1=$(sd_prop "$SD_GUARD" WatchdogTimestampMonotonic)
wdsec=$(sd_prop "$SD_GUARD" WatchdogUSec)

entries=$(sd_guard_entries "$cursor" OOMGUARD_LEVEL,OOMGUARD_ACTION,OOMGUARD_PID,OOMGUARD_OUTCOME,MESSAGE OOMGUARD_LEVEL=gc)
all=$(grep -c . <<<"$entries")
good=$(awk -F'\t' -v pid="$pid" '$2 == "SIGUSR1" && $3 == pid && $4 == "sent"' <<<"$entries" | grep -c .)
# gcsim's last report: "t=.. heap=.. live=.. gcs=<own> usr1=<served>".
served=$(sd_entries "$cursor" MESSAGE "_SYSTEMD_UNIT=$SD_SVC" "_PID=$pid" | grep -oE 'usr1=[0-9]+' | tail -1)

if ((good > 0)); then
	t_pass "gc: $good gc requests (SIGUSR1, sent) to testsvc's MainPID $pid in ${secs}s; gcsim reports ${served:-no usr1 count}; e.g. \"$(awk -F'\t' -v pid="$pid" '$3 == pid { print $5; exit }' <<<"$entries")\""
else
	t_fail "gc: requests" "$all OOMGUARD_LEVEL=gc entries, none SIGUSR1/sent to pid $pid (oomguard $guard): $(head -2 <<<"$entries" | tr '\t\n' ' |')$(sd_messages "$cursor" "$SD_GUARD" | tail -3 | tr '\n' '|')"
fi
if [[ -z $changed && $state == active && $restarts_now == "$restarts" && ${oom_kill:-0} == 0 ]]; then
	t_pass "gc: testsvc not OOM-killed in ${secs}s (MainPID $pid, NRestarts $restarts_now, oom_kill 0, peak $((${peak:-0} >> 20)) MiB of 256)"
else
	t_fail "gc: no OOM kill" "${changed:-MainPID unchanged}, ActiveState $state, NRestarts $restarts -> $restarts_now, oom_kill ${oom_kill:-?}, peak $((${peak:-0} >> 20)) MiB"
fi

# WatchdogSec= in the unit: systemd records each WATCHDOG=1.
if [[ $wdsec != 0 && ${wd1:-0} -gt ${wd0:-0} && $guard == active ]]; then
	t_pass "watchdog: WATCHDOG=1 received (WatchdogUSec $wdsec; last keep-alive moved by $(((wd1 - wd0) / 1000)) ms)"
else
	t_fail "watchdog" "WatchdogUSec $wdsec, WatchdogTimestampMonotonic $wd0 -> $wd1, oomguard $guard"
fi

sd_save_journal 02_gc "$cursor"
exit 0
