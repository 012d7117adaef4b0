#!/bin/bash
# 5. A bad configuration on reload: oomguard@testsvc runs with [gc] at =
# 50%, then line 2 of /etc/oomguard/testsvc.ini becomes
# "at = banana" and the unit is reloaded. The journal must have an error
# naming the file and line ("cannot reload ...
# /etc/oomguard/testsvc.ini:2: ..."), the unit must stay active
# with the same MainPID, and the old levels must stay in force: gc
# requests go on, some of them below 75% (the default level a failed parse
# could have fallen back to). Same gcsim as test_04 (40% live).
source "$(dirname "$0")/test.sh"
sd_begin "bad reload" 05_bad_reload "--live 40 --rate 64" "$(sd_ini_gc_at 50%)" || exit 0
guard=$(sd_prop "$SD_GUARD" MainPID)
sleep 4
read -r before before_low < <(sd_gc_below "$cursor" 75)

sd_ini_gc_at banana | sd_write "$SD_INI"
reload_cursor=$(sd_cursor)
out=$(sd 30 systemctl reload "$SD_GUARD" 2>&1)
rc=$?
out=${out//$'\n'/ }
sleep 6
state=$(sd_prop "$SD_GUARD" ActiveState)
guard_now=$(sd_prop "$SD_GUARD" MainPID)
msgs=$(sd_messages "$reload_cursor" "$SD_GUARD")
read -r after after_low < <(sd_gc_below "$reload_cursor" 75)

err=$(grep -m1 -F "$SD_INI:2:" <<<"$msgs")
if [[ -n $err && $err == *"cannot reload"* ]]; then
	t_pass "bad reload: the journal names file and line: \"$err\""
elif [[ -n $err ]]; then
	t_fail "bad reload: error" "names $SD_INI:2 but not \"cannot reload\": $err"
else
	t_fail "bad reload: error" "no line with '$SD_INI:2:' after the reload: $(tail -4 <<<"$msgs" | tr '\n' '|')"
fi
if [[ $state == active && $guard_now == "$guard" ]] && ! grep -q 'configuration reloaded' <<<"$msgs"; then
	t_pass "bad reload: unit still active, MainPID $guard unchanged (systemctl reload exit $rc), no \"configuration reloaded\""
else
	t_fail "bad reload: unit" "ActiveState $state, MainPID $guard -> $guard_now, reload exit $rc ($out), \"configuration reloaded\" lines: $(grep -c 'configuration reloaded' <<<"$msgs")"
fi
if ((before_low > 0 && after_low > 0)); then
	t_pass "bad reload: old level (50%) still in force: gc requests before: $before ($before_low below 75%), after: $after ($after_low below 75%)"
else
	t_fail "bad reload: old level" "gc requests before: $before ($before_low below 75%), after: $after ($after_low below 75%)"
fi

sd_save_journal 05_bad_reload "$cursor"
exit 0
