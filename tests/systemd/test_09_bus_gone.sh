#!/bin/bash
# 9. systemd's bus gone (the fault matrix's case, docs/testing.md):
# dbus.socket and dbus.service stopped for GONE seconds while testsvc
# (gcsim, 60% of its 256M live, growing to 120% unless asked to collect)
# runs beside oomguard@testsvc. oomguard knows the unit's cgroup and main
# process already, and needs the bus for nothing else: it must say the
# connection closed, go on sending gc requests to the MainPID (without
# them the kernel OOM-kills testsvc within seconds: test_00), keep its
# watchdog fed (active, same MainPID), and, once the bus is back, follow
# the unit by systemd's signals again and see a restart of testsvc.
source "$(dirname "$0")/test.sh"
gone=10
follow=5

sd_begin "bus gone" 09_bus_gone "" "$(printf '[log]\nlevel = debug\n')" || exit 0
# shellcheck disable=SC2317 # called through sd_wait
following() { sd_messages "$1" "$SD_GUARD" | grep -q "following $SD_SVC by systemd's signals"; }
if ! sd_wait 10 following "$cursor"; then
	t_fail "bus gone: set-up" "no 'following $SD_SVC by systemd's signals' line: $(sd_messages "$cursor" "$SD_GUARD" | tail -4 | tr '\n' '|')"
	sd_save_journal 09_bus_gone "$cursor"
	exit 0
fi
svc_pid=$(sd_prop "$SD_SVC" MainPID)
restarts=$(sd_prop "$SD_SVC" NRestarts)
guard_pid=$(sd_prop "$SD_GUARD" MainPID)
mark=$(sd_cursor)
sd 30 systemctl stop dbus.socket dbus.service
bus=$(sd 10 systemctl show -P ActiveState dbus.service)
sleep "$gone"
# Read before the bus comes back.
gap=$(sd_guard_entries "$mark" OOMGUARD_LEVEL,OOMGUARD_PID,OOMGUARD_OUTCOME OOMGUARD_LEVEL=gc |
	awk -F'\t' -v pid="$svc_pid" '$2 == pid && $3 == "sent"' | grep -c .)
closed=$(sd_messages "$mark" "$SD_GUARD" | grep -m1 -E "connection to systemd's bus closed|cannot ask systemd")
svc_now=$(sd_prop "$SD_SVC" MainPID) restarts_now=$(sd_prop "$SD_SVC" NRestarts)
guard_now=$(sd_prop "$SD_GUARD" MainPID) guard_state=$(sd_prop "$SD_GUARD" ActiveState)
back=$(sd_cursor)
sd 30 systemctl start dbus.socket dbus.service

if [[ $bus == inactive && -n $closed && $gap -gt 0 && $svc_now == "$svc_pid" && $restarts_now == "$restarts" &&
	$guard_now == "$guard_pid" && $guard_state == active ]]; then
	t_pass "bus gone ${gone}s: \"${closed}\"; $gap gc requests to MainPID $svc_pid meanwhile, testsvc not restarted, oomguard active (pid $guard_pid)"
else
	t_fail "bus gone" "dbus.service $bus; said: '${closed:-nothing}'; $gap gc requests to $svc_pid; testsvc MainPID $svc_pid -> $svc_now, NRestarts $restarts -> $restarts_now; oomguard $guard_state, pid $guard_pid -> $guard_now: $(sd_messages "$mark" "$SD_GUARD" | tail -4 | tr '\n' '|')"
fi

if sd_wait 20 following "$back"; then
	pid1=$(sd_prop "$SD_SVC" MainPID)
	sd 30 systemctl restart "$SD_SVC"
	pid2=$(sd_prop "$SD_SVC" MainPID)
	# shellcheck disable=SC2317 # called through sd_wait
	seen() { sd_messages "$back" "$SD_GUARD" | grep -q "unit $SD_SVC: active, main pid $pid2,"; }
	if [[ $pid2 != 0 && $pid2 != "$pid1" ]] && sd_wait "$follow" seen; then
		t_pass "bus back: followed by systemd's signals again, a restart of testsvc seen (MainPID $pid1 -> $pid2)"
	else
		t_fail "bus back: restart followed" "MainPID $pid1 -> $pid2 not followed within ${follow}s: $(sd_messages "$back" "$SD_GUARD" | tail -4 | tr '\n' '|')"
	fi
else
	t_fail "bus back" "no new 'following $SD_SVC by systemd's signals' within 20 s, oomguard $(sd_prop "$SD_GUARD" ActiveState): $(sd_messages "$back" "$SD_GUARD" | tail -4 | tr '\n' '|')"
fi
sd_save_journal 09_bus_gone "$cursor"
exit 0
