#!/bin/bash
# shellcheck source-path=SCRIPTDIR/../lib
# The sidecar on a real v1 cgroup: oomguard --cgroup DIR --pid P watching a
# gcsim that holds a steady 62% of a 256 MiB limit. SIGHUP reloads the
# configuration: a lower gc level takes effect (gc requests to P begin), a
# bad file is refused with its line and the old levels stay.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
cg_test_setup
cg_need_v1 "reload on cgroup v1" "needs root and a v1 memory cgroup"
limit=$((256 << 20))

dir=$(cg_create "og-reload-$$" $limit)
cg_spawn "$dir" "$WORKLOAD_DIR/gcsim" --limit $limit --live 62 --garbage-ratio 1.0 >/dev/null
app=$CG_PID
until [[ $(cg_usage "$dir") -gt $((150 << 20)) ]]; do sleep 0.1; done

conf=$tmp/og.ini
printf '[gc]\nat = 75%%\nrearm_below = 70%%\n' >"$conf"
OOMGUARD_LOG_LEVEL=debug "$OOMGUARD" --cgroup "$dir" --pid "$app" -c "$conf" 2>"$tmp/og.log" &
og=$!
t_wait_log "$tmp/og.log" 'gc at 192.0MiB' 10 ||
	t_fail "start" "$(cat "$tmp/og.log")"
sleep 1.5
if grep -q '^.*gc: ' "$tmp/og.log"; then
	t_fail "no gc request below the first level" "$(cat "$tmp/og.log")"
else
	t_pass "no gc request at 62% with gc at 75%"
fi

printf '[gc]\nat = 50%%\nrearm_below = 40%%\n' >"$conf"
kill -HUP "$og"
t_wait_log "$tmp/og.log" 'configuration reloaded from' 5 &&
	t_wait_log "$tmp/og.log" 'gc at 128.0MiB' 5 &&
	t_wait_log "$tmp/og.log" "gc: .*SIGUSR1 to pid $app: sent" 5 &&
	t_pass "SIGHUP: the new level is logged and gc requests go to pid $app" ||
	t_fail "reload" "$(cat "$tmp/og.log")"

printf '[gc]\nat = banana\n' >"$conf"
kill -HUP "$og"
if t_wait_log "$tmp/og.log" "cannot reload the configuration: $conf:2: \[gc\] at" 5; then
	sent=$(grep -c "gc: .*to pid $app: sent" "$tmp/og.log")
	sleep 2.5
	later=$(grep -c "gc: .*to pid $app: sent" "$tmp/og.log")
	kill -0 "$og" 2>/dev/null && ((later > sent)) &&
		t_pass "a bad file is refused with its line; the old level stays ($sent, then $later gc requests)" ||
		t_fail "bad reload kept the old configuration" "$sent then $later: $(cat "$tmp/og.log")"
else
	t_fail "bad reload message" "$(cat "$tmp/og.log")"
fi

kill -TERM "$og"
wait "$og"
rc=$?
((rc == 0)) && t_pass "SIGTERM ends the sidecar with 0" || t_fail "sidecar exit" "rc $rc"
kill -0 "$app" 2>/dev/null && t_pass "the app keeps running after the sidecar" ||
	t_fail "the app" "gone"
cg_destroy "$dir"
t_summary
