#!/bin/bash
# 8. oomguard follows testsvc by systemd's signals, not by asking every
# second. With the pair running, oomguard must say it follows the unit by
# its signals; over WINDOW seconds of a quiet unit it must make at most
# one round of questions (7 D-Bus method calls: the 30 s recheck; asking
# every second would be about 7 a second), counted by busctl monitor on
# its connection; and a systemctl restart of testsvc must reach it within
# FOLLOW seconds (the recheck alone would take up to 30 s), also after
# dbus.service restarted under it.
source "$(dirname "$0")/test.sh"
window=6
follow=5

sd_begin signals 08_signals || exit 0
# shellcheck disable=SC2317 # called through sd_wait
following() { sd_messages "$cursor" "$SD_GUARD" | grep -q "following $SD_SVC by systemd's signals"; }
if sd_wait 10 following; then
	t_pass "signals: \"$(sd_messages "$cursor" "$SD_GUARD" | grep -m1 -o "following $SD_SVC by systemd's signals.*")\""
else
	t_fail "signals: subscribed" "no 'following $SD_SVC by systemd's signals' line: $(sd_messages "$cursor" "$SD_GUARD" | tail -4 | tr '\n' '|')"
	sd_save_journal 08_signals "$cursor"
	exit 0
fi

# oomguard's connection on the bus, by its PID.
gpid=$(sd_prop "$SD_GUARD" MainPID)
conn=$(sd 20 busctl --system list --unique --no-legend | awk -v p="$gpid" '$2 == p { print $1; exit }')
if [[ -z $conn ]]; then
	t_fail "signals: quiet" "no bus connection of oomguard (pid $gpid) in busctl list"
else
	calls=$(sd $((window + 10)) timeout "$window" busctl --system monitor \
		--match "type='method_call',sender='$conn'" 2>/dev/null | grep -c 'Type=method_call')
	if ((calls <= 7)); then
		t_pass "signals: $calls D-Bus method calls from oomguard ($conn) in ${window}s of a quiet unit"
	else
		t_fail "signals: quiet" "$calls D-Bus method calls from oomguard ($conn) in ${window}s: it asks instead of listening"
	fi
fi

pid1=$(sd_prop "$SD_SVC" MainPID)
mark=$(sd_cursor)
sd 30 systemctl restart "$SD_SVC"
pid2=$(sd_prop "$SD_SVC" MainPID)
# shellcheck disable=SC2317 # called through sd_wait
seen() { sd_messages "$mark" "$SD_GUARD" | grep -q "unit $SD_SVC: active, main pid $pid2,"; }
t0=$SECONDS
if [[ $pid2 != 0 && $pid2 != "$pid1" ]] && sd_wait "$follow" seen; then
	t_pass "signals: systemctl restart followed (MainPID $pid1 -> $pid2) within $((SECONDS - t0 + 1))s: \"$(sd_messages "$mark" "$SD_GUARD" | grep -m1 "unit $SD_SVC: active, main pid $pid2,")\""
else
	t_fail "signals: restart followed" "MainPID $pid1 -> $pid2, no 'unit $SD_SVC: active, main pid $pid2' line within ${follow}s: $(sd_messages "$mark" "$SD_GUARD" | tail -4 | tr '\n' '|')"
fi

# The bus restarts: oomguard's connection closes; it asks every second
# until it can connect again, then follows by signals on the new one.
mark=$(sd_cursor)
sd 60 systemctl restart dbus.service
# shellcheck disable=SC2317 # called through sd_wait
again() { sd_messages "$mark" "$SD_GUARD" | grep -q "following $SD_SVC by systemd's signals"; }
if sd_wait 20 again && [[ $(sd_prop "$SD_GUARD" ActiveState) == active ]]; then
	pid3=$(sd_prop "$SD_SVC" MainPID)
	sd 30 systemctl restart "$SD_SVC"
	pid4=$(sd_prop "$SD_SVC" MainPID)
	# shellcheck disable=SC2317 # called through sd_wait
	seen4() { sd_messages "$mark" "$SD_GUARD" | grep -q "unit $SD_SVC: active, main pid $pid4,"; }
	if [[ $pid4 != 0 && $pid4 != "$pid3" ]] && sd_wait "$follow" seen4; then
		t_pass "signals: after a restart of dbus.service, watched again on a new connection and a restart followed (MainPID $pid3 -> $pid4): $(sd_messages "$mark" "$SD_GUARD" | grep -E 'connection|following' | tr '\n' '|')"
	else
		t_fail "signals: after the bus restarted" "MainPID $pid3 -> $pid4 not followed within ${follow}s: $(sd_messages "$mark" "$SD_GUARD" | tail -5 | tr '\n' '|')"
	fi
else
	t_fail "signals: after the bus restarted" "no new 'following $SD_SVC by systemd's signals' within 20 s, oomguard $(sd_prop "$SD_GUARD" ActiveState): $(sd_messages "$mark" "$SD_GUARD" | tail -5 | tr '\n' '|')"
fi

sd_save_journal 08_signals "$cursor"
exit 0
