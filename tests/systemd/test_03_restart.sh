#!/bin/bash
# 3. Restart signal, and oomguard following testsvc across a restart.
#
# gcsim here keeps 40% live and collects on its own at 80% of the limit
# (--live 40, default ratio 2.0): it never reaches the limit, so the
# kernel's OOM killer stays out of this test. It ignores SIGUSR1, and the
# configuration turns gc off and puts the restart level at 60%, which each
# of gcsim's cycles crosses; startup = 2s shortens the grace a new process
# gets before it may be told to restart.
#
# oomguard must send SIGTERM to testsvc's MainPID (OOMGUARD_LEVEL=restart),
# gcsim exits, systemd restarts testsvc (Restart=always), and a later
# journal entry of oomguard must target the new MainPID.
source "$(dirname "$0")/test.sh"

ini='[gc]
at = none
rearm_below = 30%

[restart]
at = 60%
startup = 2s'
sd_begin restart 03_restart "--live 40 --rate 64 --usr1 ignore --exit-code 0" "$ini" || exit 0
pid1=$(sd_prop "$SD_SVC" MainPID)
fields=OOMGUARD_LEVEL,OOMGUARD_ACTION,OOMGUARD_PID,OOMGUARD_OUTCOME,__CURSOR,_PID,MESSAGE

# The restart request to the first MainPID.
first=
# shellcheck disable=SC2317 # called through sd_wait
told() {
	first=$(sd_guard_entries "$cursor" "$fields" OOMGUARD_LEVEL=restart "OOMGUARD_PID=$pid1" | head -1)
	[[ -n $first ]]
}
if ! sd_wait 30 told; then
	t_fail "restart: SIGTERM" "no OOMGUARD_LEVEL=restart entry for MainPID $pid1 within 30 s (oomguard $(sd_prop "$SD_GUARD" ActiveState)): $(sd_messages "$cursor" "$SD_GUARD" | tail -4 | tr '\n' '|')"
	sd_save_journal 03_restart "$cursor"
	exit 0
fi
IFS=$'\t' read -r _ action _ outcome after sender1 msg <<<"$first"
if [[ $action == SIGTERM && $outcome == sent ]]; then
	t_pass "restart: SIGTERM sent to MainPID $pid1 at the restart level: \"$msg\""
else
	t_fail "restart: SIGTERM" "action '$action', outcome '$outcome': $msg"
fi

# systemd restarts testsvc: a new MainPID.
pid2=
# shellcheck disable=SC2317 # called through sd_wait
new_main() {
	pid2=$(sd_prop "$SD_SVC" MainPID)
	[[ $pid2 != 0 && $pid2 != "$pid1" && $(sd_prop "$SD_SVC" ActiveState) == active ]]
}
if sd_wait 20 new_main; then
	# systemd says "Main process exited, code=..." only for a non-zero exit
	# or a signal; gcsim here exits 0 on SIGTERM.
	exited=$(sd_messages "$cursor" "$SD_SVC" | grep -m1 -oE 'Main process exited, code=[a-z]+, status=[^ ]+|Deactivated successfully')
	t_pass "restart: testsvc exited (${exited:-no exit message}) and systemd restarted it: MainPID $pid1 -> $pid2, NRestarts $(sd_prop "$SD_SVC" NRestarts)"
else
	t_fail "restart: systemd restart" "testsvc MainPID still '$pid2', ActiveState $(sd_prop "$SD_SVC" ActiveState)"
	sd_save_journal 03_restart "$cursor"
	exit 0
fi

# oomguard follows: an entry after the first one for a later MainPID of
# testsvc. Every gcsim logs its start-up line from its own PID, so the
# _PIDs of testsvc's lines are its MainPIDs (testsvc may have been
# restarted more than once by now).
later=
# shellcheck disable=SC2317 # called through sd_wait
followed() {
	local pids
	pids=$(sd_entries "$cursor" _PID "_SYSTEMD_UNIT=$SD_SVC" | sort -u | grep -vx "$pid1" | tr '\n' ' ')
	later=$(sd_guard_entries "$after" "$fields" | awk -F'\t' -v pids=" $pids" '$1 != "" && index(pids, " " $3 " ")' | head -1)
	[[ -n $later ]]
}
if sd_wait 30 followed; then
	IFS=$'\t' read -r level action pid _ _ sender2 msg <<<"$later"
	# oomguard@.service has no BindsTo=: the same oomguard process must
	# have followed testsvc (the _PID of the two entries).
	if [[ $sender2 == "$sender1" ]]; then
		t_pass "restart: the same oomguard process (pid $sender1) followed testsvc to its new MainPID $pid ($level, $action): \"$msg\""
	else
		t_fail "restart: follow" "a new oomguard process (pid $sender1, then $sender2) acted: systemd restarted $SD_GUARD with testsvc"
	fi
else
	t_fail "restart: follow" "no oomguard action for a MainPID after $pid1 within 30 s (testsvc now $(sd_prop "$SD_SVC" MainPID), oomguard $(sd_prop "$SD_GUARD" ActiveState)/$(sd_prop "$SD_GUARD" MainPID), first SIGTERM from pid $sender1): $(sd_messages "$cursor" "$SD_GUARD" | tail -4 | tr '\n' '|')"
fi

sd_save_journal 03_restart "$cursor"
exit 0
