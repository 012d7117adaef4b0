#!/bin/bash
# 1. READY: oomguard@testsvc.service is Type=notify, `systemctl start`
# returns once oomguard said READY=1, the unit is active, and its
# StatusText names usage and limit ("usage 180.0MiB of 256.0MiB (70%),
# level gc"). testsvc is started first, so that this checks READY alone;
# whether the unit's own dependencies name testsvc.service (After=, and
# WantedBy= so that starting testsvc starts it) is a check of its own.
source "$(dirname "$0")/test.sh"

sd_reset || {
	t_fail "ready: set-up" "cannot stop the units or write the test files"
	exit 0
}
cursor=$(sd_cursor)

type=$(sd_prop "$SD_GUARD" Type)
if [[ $type == notify ]]; then
	t_pass "ready: $SD_GUARD is Type=notify"
else
	t_fail "ready: Type" "Type=$type, expected notify (systemctl start would not wait for READY=1)"
fi

# The template says After=%i.service; with the instance "testsvc" it must
# come out as testsvc.service, or systemd ignores it ("Failed to add
# dependency on testsvc, ignoring: Invalid argument"). No BindsTo=: a
# restart of testsvc must not restart oomguard (test 3 follows it).
after=$(sd_prop "$SD_GUARD" After)
binds=$(sd_prop "$SD_GUARD" BindsTo)
if [[ " $after " == *" $SD_SVC "* && -z $binds ]]; then
	t_pass "ready: $SD_GUARD is ordered after $SD_SVC, not bound to it"
else
	t_fail "ready: dependencies" "After=$after BindsTo=$binds: no $SD_SVC, or bound ($(sd 10 systemd-analyze verify "$SD_GUARD" 2>&1 | grep -m1 -i dependency))"
fi

if ! sd 60 systemctl start "$SD_SVC"; then
	t_fail "ready: testsvc" "systemctl start $SD_SVC failed"
fi
t0=$EPOCHREALTIME
out=$(sd 60 systemctl start "$SD_GUARD" 2>&1)
rc=$?
out=${out//$'\n'/ }
dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
state=$(sd_prop "$SD_GUARD" ActiveState)/$(sd_prop "$SD_GUARD" SubState)
if ((rc == 0)) && [[ $state == active/running ]]; then
	t_pass "ready: systemctl start $SD_GUARD returned after ${dt}s, unit $state"
else
	t_fail "ready: start" "exit $rc after ${dt}s ($out), unit $state, result $(sd_prop "$SD_GUARD" Result): $(sd_messages "$cursor" "$SD_GUARD" | tail -4 | tr '\n' '|')"
fi

# The status is set once the first sample is taken; it may lag READY=1.
status=
# shellcheck disable=SC2317 # called through sd_wait
has_status() {
	status=$(sd_prop "$SD_GUARD" StatusText)
	[[ $status == *" of "* ]]
}
if sd_wait 10 has_status; then
	t_pass "ready: StatusText \"$status\""
else
	t_fail "ready: StatusText" "'$status' after 10 s, expected usage and limit (\"... of ...\")"
fi

sd_save_journal 01_ready "$cursor"
exit 0
