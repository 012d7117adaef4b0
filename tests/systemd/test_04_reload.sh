#!/bin/bash
# 4. Reload: /etc/oomguard/testsvc.ini moves [gc] at from 75% to
# 50%, then `systemctl reload oomguard@testsvc.service` (SIGHUP).
#
# gcsim here keeps 40% live (102 MiB) and collects on its own at 80%
# (205 MiB), at 64 MiB/s: at 75% oomguard's gc requests go out at about
# 192 MiB; at 50% they go out as soon as the 1 s cooldown allows, at
# about 102 + 64 = 166 MiB. So after the reload the journal must show the
# new levels ("limit 256.0MiB: gc at 128.0MiB, ..."), "configuration
# reloaded", and gc requests below the old level; the unit stays active
# with the same MainPID (a reload, not a restart).
source "$(dirname "$0")/test.sh"
sd_begin reload 04_reload "--live 40 --rate 64" "$(sd_ini_gc_at 75%)" || exit 0
guard=$(sd_prop "$SD_GUARD" MainPID)
sleep 5
read -r before before_low < <(sd_gc_below "$cursor" 75)

sd_ini_gc_at 50% | sd_write "$SD_INI"
reload_cursor=$(sd_cursor)
out=$(sd 30 systemctl reload "$SD_GUARD" 2>&1)
rc=$?
out=${out//$'\n'/ }
sleep 5
state=$(sd_prop "$SD_GUARD" ActiveState)
guard_now=$(sd_prop "$SD_GUARD" MainPID)
msgs=$(sd_messages "$reload_cursor" "$SD_GUARD")
read -r after after_low < <(sd_gc_below "$reload_cursor" 75)

if ((rc == 0)) && [[ $state == active && $guard_now == "$guard" ]]; then
	t_pass "reload: systemctl reload returned 0, unit active, MainPID $guard unchanged"
else
	t_fail "reload: unit" "reload exit $rc ($out), ActiveState $state, MainPID $guard -> $guard_now"
fi
levels=$(grep -m1 -E 'gc at 128(\.0)?MiB' <<<"$msgs")
if grep -q 'configuration reloaded' <<<"$msgs" && [[ -n $levels ]]; then
	t_pass "reload: \"configuration reloaded\" and the new levels: \"$levels\""
else
	t_fail "reload: log" "after the reload the journal has $(grep -c 'configuration reloaded' <<<"$msgs") \"configuration reloaded\" and no 'gc at 128.0MiB' line: $(tail -4 <<<"$msgs" | tr '\n' '|')"
fi
if ((before > 0 && before_low == 0 && after_low > 0)); then
	t_pass "reload: gc requests before: $before, all at or above 75%; after: $after, $after_low of them below 75% (the new 50% level in force)"
else
	t_fail "reload: level in force" "gc requests before the reload: $before ($before_low below 75%), after: $after ($after_low below 75%)"
fi

sd_save_journal 04_reload "$cursor"
exit 0
