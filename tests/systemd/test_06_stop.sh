#!/bin/bash
# 6. Stop: `systemctl stop oomguard@testsvc.service` ends oomguard cleanly
# (inactive with Result=success, not failed), and testsvc keeps running
# with the same MainPID. gcsim here keeps 30% live and collects on its own
# at 60%, so it can run on without oomguard and "keeps running" can be
# watched for a few seconds.
source "$(dirname "$0")/test.sh"

sd_begin stop 06_stop "--live 30 --rate 64" || exit 0
sleep 2
pid=$(sd_prop "$SD_SVC" MainPID)

t0=$EPOCHREALTIME
out=$(sd 60 systemctl stop "$SD_GUARD" 2>&1)
rc=$?
out=${out//$'\n'/ }
dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
state=$(sd_prop "$SD_GUARD" ActiveState)
result=$(sd_prop "$SD_GUARD" Result)
status=$(sd_prop "$SD_GUARD" ExecMainStatus)
if ((rc == 0)) && [[ $state == inactive && $result == success ]]; then
	t_pass "stop: systemctl stop took ${dt}s, unit inactive, Result=success (exit status $status)"
else
	t_fail "stop: clean stop" "exit $rc ($out) after ${dt}s, ActiveState $state, Result $result, ExecMainStatus $status"
fi

sleep 3
svc_state=$(sd_prop "$SD_SVC" ActiveState)
svc_pid=$(sd_prop "$SD_SVC" MainPID)
if [[ $svc_state == active && $svc_pid == "$pid" ]]; then
	t_pass "stop: testsvc still active 3 s later, same MainPID $pid"
else
	t_fail "stop: testsvc" "ActiveState $svc_state, MainPID $pid -> $svc_pid"
fi

sd_save_journal 06_stop "$cursor"
exit 0
