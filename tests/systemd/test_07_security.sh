#!/bin/bash
# 7. `systemd-analyze security oomguard@testsvc.service`: the exposure
# score is printed as a figure, not checked; only an error of the command
# itself fails. The full table goes to $DK_LOGDIR/07_security.txt.
source "$(dirname "$0")/test.sh"

out=$(sd 60 systemd-analyze security --no-pager "$SD_GUARD" 2>&1)
rc=$?
printf '%s\n' "$out" >"$DK_LOGDIR/07_security.txt"
# "→ Overall exposure level for oomguard@testsvc.service: 9.6 UNSAFE 😨"
score=$(grep -m1 -oE 'Overall exposure level for [^:]+: [0-9.]+ [A-Z]+' <<<"$out" | sed 's/.*: //')
if ((rc == 0)) && [[ -n $score ]]; then
	t_pass "security: systemd-analyze security $SD_GUARD: exposure $score"
else
	t_fail "security" "systemd-analyze security exited $rc: $(tail -3 <<<"$out" | tr '\n' '|')"
fi
exit 0
