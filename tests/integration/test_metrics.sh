#!/bin/bash
# shellcheck source-path=SCRIPTDIR/../lib
# The metrics endpoint, status and hooks, on real v1 cgroups with the real
# binary, scraped by a real Prometheus (Debian's, on a loopback port with
# a configuration and storage of its own, stopped at the end):
#
#  T1  oomguard beside gcsim (--cgroup) for METRICS_SECS (30) seconds of
#      gc requests, scraped every second: Prometheus's last value of
#      oomguard_gc_requests_total is the number of gc requests in the log
#      (debug: every request has its line), the reaction histogram counted
#      each of them, samples were timed; promtool check metrics is clean;
#      oomguard status shows the cgroup and the same count, --json too;
#      the live set's estimate against gcsim's own live set (printed):
#      not under it (the metric's low point cannot be) and under 1.5
#      times it (it was +67% when the low point went unsampled).
#  T2  hostile clients during gc requests (200 slowloris connections, 20
#      sending 64 KiB headers, a flood of 1,000): oomguard lives on, holds
#      no more than its cap of connections' descriptors, keeps sending gc
#      requests, and answers /healthz once they stop.
#  T3  a rescue while a client scrapes in a loop: burst freezes its cgroup
#      (OOM killer off), oomguard rescues it and the app's SIGTERM handler
#      runs (its exit code 42 passed on).
#  T4  hooks: on a gc episode, the program sees the event in its
#      environment and its output is in the log; a hook past its timeout
#      is killed then, with what it started.
#  T5  a restart (gcsim holding 92% live, its gc handler freeing nothing):
#      the restart hook runs with the event, the signal and the app's pid,
#      before or after the SIGTERM as its OOMGUARD_WHEN says, and
#      oomguard status counts the restart.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
source "$here/../lib/prometheus.sh"
cg_test_setup og
cg_need_v1 "metrics on cgroup v1" "needs root and a v1 memory cgroup"
trap 'prom_stop; _cg_test_exit' EXIT
start=$SECONDS
command -v prometheus >/dev/null && command -v promtool >/dev/null || {
	t_skip "metrics" "Debian's prometheus package is not installed (make deps)"
	t_summary
	exit
}
secs=${METRICS_SECS:-30}
port=$((20000 + $$ % 20000)) pport=$((20000 + ($$ + 1) % 20000))
gcsim=$WORKLOAD_DIR/gcsim
sent='gc: .*SIGUSR1 to pid [0-9]*: sent'

# metric NAME: Prometheus's value of NAME for the test's cgroup.
metric() {
	prom_query "$1" | awk '{ print $NF }' | tail -1
}

# T1
dir=$(cg_create "og-metrics-$$" 256M oom_disable) || exit 1
prom_start "$pport" "127.0.0.1:$port" 1s || exit 1
cg_spawn "$dir" "$gcsim" --limit 256M --live 40 --duration "$secs" >"$tmp/t1.app" 2>&1
app=$CG_PID
OOMGUARD_LOG_LEVEL=debug "$OOMGUARD" --cgroup "$dir" --metrics "127.0.0.1:$port" \
	>/dev/null 2>"$tmp/t1.log" &
og=$!
# The live set's estimate while gcsim runs (once it has ended, the low
# point is its empty cgroup's), a few seconds before its end.
sleep $((secs - 4))
est=$(http_get "127.0.0.1:$port" /metrics | awk '/^oomguard_live_bytes_estimate/ { print $NF }')
wait "$app"
sleep 3 # two more scrapes after the last request
logged=$(grep -c "$sent" "$tmp/t1.log")
scraped=$(metric 'oomguard_gc_requests_total')
reactions=$(metric 'oomguard_reaction_duration_seconds_count')
samples=$(metric 'oomguard_sample_duration_seconds_count')
scrapes=$(metric "count_over_time(up{job=\"oomguard\"}[$((secs + 5))s])")
up=$(metric "min_over_time(up{job=\"oomguard\"}[$((secs + 5))s])")
why=()
((logged > 0)) || why+=("no gc request in the log")
[[ $scraped == "$logged" ]] || why+=("Prometheus says $scraped gc requests, the log $logged")
[[ $reactions == "$logged" ]] || why+=("the reaction histogram counted $reactions, the log $logged")
((${samples:-0} > secs)) || why+=("$samples samples timed in ${secs}s")
[[ $up == 1 ]] || why+=("a scrape failed (min up $up over $scrapes scrapes)")
((${#why[@]} == 0)) && t_pass "T1 Prometheus scraped ${scrapes} times: $scraped gc requests, as logged" ||
	t_fail "T1 Prometheus" "${why[*]}"

http_get "127.0.0.1:$port" /metrics >"$tmp/t1.prom"
if promtool check metrics <"$tmp/t1.prom" >"$tmp/t1.lint" 2>&1; then
	t_pass "T1 promtool check metrics is clean"
else
	t_fail "T1 promtool" "$(head -5 "$tmp/t1.lint")"
fi

"$OOMGUARD" status --metrics "127.0.0.1:$port" >"$tmp/t1.status" 2>&1
rc=$?
"$OOMGUARD" status --json --metrics "127.0.0.1:$port" >"$tmp/t1.json" 2>&1
if [[ $rc == 0 ]] && grep -qF "$dir" "$tmp/t1.status" &&
	grep -q "^  counts     $logged gc requests, 0 restarts" "$tmp/t1.status" &&
	grep -q "\"gc_requests\":$logged," "$tmp/t1.json"; then
	t_pass "T1 oomguard status shows the cgroup and its $logged gc requests"
else
	t_fail "T1 status" "exit $rc: $(cat "$tmp/t1.status" "$tmp/t1.json" | head -12)"
fi

# gcsim says "live=102MiB": the estimate against it.
live=$(grep -o 'live=[0-9]*MiB' "$tmp/t1.app" | head -1 | tr -dc 0-9)
if [[ -n $live && -n $est ]] && awk -v e="$est" -v l="$live" 'BEGIN {
	printf "# live set: estimate %.1f MiB, gcsim %d MiB (%+.0f%%)\n", e / 1048576, l,
		(e / 1048576 - l) * 100 / l
	exit !(e >= l * 1048576 && e < 1.5 * l * 1048576) }'; then
	t_pass "T1 the live set is estimated while the app runs, within [live, 1.5 x live)"
else
	t_fail "T1 live set" "estimate '$est' bytes against gcsim's live set of '$live' MiB: not in [live, 1.5 x live)"
fi
t_stop "$og"
og=
prom_stop
cg_destroy "$dir"

echo "# $((SECONDS - start)) s"
# T2
dir=$(cg_create "og-metrics-h-$$" 256M oom_disable) || exit 1
cg_spawn "$dir" "$gcsim" --limit 256M --live 40 --duration 25 >/dev/null
app=$CG_PID
"$OOMGUARD" --log-level debug --cgroup "$dir" --metrics "127.0.0.1:$port" >/dev/null \
	2>"$tmp/t2.log" &
og=$!
sleep 2
fds0=$(ls "/proc/$og/fd" | wc -l)
before=$(grep -c "$sent" "$tmp/t2.log")
hostile=$WORKLOAD_DIR/hostile
"$hostile" slowloris "127.0.0.1:$port" 200 12 >"$tmp/t2.slow" &
h1=$!
"$hostile" headers "127.0.0.1:$port" 20 12 >"$tmp/t2.headers" &
h2=$!
"$hostile" flood "127.0.0.1:$port" 1000 12 >"$tmp/t2.flood" &
h3=$!
fdsmax=0
for _ in $(seq 20); do
	sleep 0.5
	n=$(ls "/proc/$og/fd" 2>/dev/null | wc -l)
	((n > fdsmax)) && fdsmax=$n
done
during=$(($(grep -c "$sent" "$tmp/t2.log") - before))
wait "$h1" "$h2" "$h3"
t0=${EPOCHREALTIME/[.,]/}
healthz=
for _ in $(seq 70); do
	healthz=$(http_get "127.0.0.1:$port" /healthz 2>/dev/null) && break
	sleep 0.1
done
ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
why=()
kill -0 "$og" 2>/dev/null || why+=("oomguard died")
((fdsmax <= fds0 + 16 + 1)) || why+=("oomguard held $fdsmax descriptors (from $fds0, cap 16)")
((during > 0)) || why+=("no gc request during the attack")
[[ $healthz == ok ]] || why+=("/healthz unanswered ${ms} ms after the attack")
cat "$tmp/t2.slow" "$tmp/t2.headers" "$tmp/t2.flood" | sed 's/^/# /'
((${#why[@]} == 0)) &&
	t_pass "T2 hostile clients: descriptors $fds0 to at most $fdsmax, $during gc requests meanwhile, /healthz in ${ms} ms after" ||
	t_fail "T2 hostile clients" "${why[*]}"
t_stop "$og"
og=
kill "$app" 2>/dev/null
cg_destroy "$dir"

echo "# $((SECONDS - start)) s"
# T3
if ! t_skip_unlocked T3; then
	dir=$(cg_create "og-metrics-r-$$" 256M oom_disable) || exit 1
	(
		# Scrapes in a loop, from outside the cgroup, until the end of the run.
		for _ in $(seq 400); do
			http_get "127.0.0.1:$port" /metrics >/dev/null 2>&1 || sleep 0.02
		done
	) &
	scraper=$!
	OOMGUARD_SUPERVISE_RESTART=never cg_run "$dir" 20 \
		"$OOMGUARD" --kill-at none --grace 3s --metrics "127.0.0.1:$port" -- \
		"$WORKLOAD_DIR/burst" --term exit:42 >"$tmp/t3.out" 2>"$tmp/t3.log"
	rc=$?
	kill "$scraper" 2>/dev/null
	wait "$scraper" 2>/dev/null
	if [[ $rc == 42 ]] && grep -q 'rescue' "$tmp/t3.log" && grep -q '^handler SIGTERM' "$tmp/t3.out"; then
		t_pass "T3 a rescue while a client scrapes in a loop: the handler ran, exit 42"
	else
		t_fail "T3 rescue while scraped" "exit $rc: $(grep -E 'rescue|error|warn' "$tmp/t3.log" | head -5)"
	fi
	cg_destroy "$dir"
fi

echo "# $((SECONDS - start)) s"
# T4
cat >"$tmp/hook.sh" <<HOOK
#!/bin/sh
env | grep '^OOMGUARD_' | sort >"$tmp/hook.env"
echo "hello from the hook"
HOOK
printf '#!/bin/sh\necho going to sleep\nsleep 31.7 &\nsleep 31.7\n' >"$tmp/slow.sh"
chmod +x "$tmp/hook.sh" "$tmp/slow.sh"
dir=$(cg_create "og-metrics-k-$$" 256M oom_disable) || exit 1
OOMGUARD_HOOK_EXEC=$tmp/hook.sh OOMGUARD_HOOK_ON=gc-episode cg_run "$dir" 30 \
	"$OOMGUARD" -- "$gcsim" --limit 256M --live 40 --duration 4 >"$tmp/t4.app" 2>"$tmp/t4.log"
pid=$(grep -m1 -o 'started .* as pid [0-9]*' "$tmp/t4.log" | grep -o '[0-9]*$')
why=()
grep -q "^OOMGUARD_EVENT=gc-episode$" "$tmp/hook.env" 2>/dev/null || why+=("no OOMGUARD_EVENT=gc-episode")
grep -q "^OOMGUARD_CGROUP=$dir$" "$tmp/hook.env" 2>/dev/null || why+=("no OOMGUARD_CGROUP=$dir")
grep -q "^OOMGUARD_PID=$pid$" "$tmp/hook.env" 2>/dev/null || why+=("no OOMGUARD_PID=$pid")
grep -q "^OOMGUARD_SIGNAL=SIGUSR1$" "$tmp/hook.env" 2>/dev/null || why+=("no OOMGUARD_SIGNAL=SIGUSR1")
grep -q "^OOMGUARD_LIMIT_BYTES=268435456$" "$tmp/hook.env" 2>/dev/null || why+=("no OOMGUARD_LIMIT_BYTES")
grep -q 'hook gc-episode: hello from the hook' "$tmp/t4.log" || why+=("its output is not in the log")
grep -q 'hook gc-episode: exited with 0' "$tmp/t4.log" || why+=("its end is not in the log")
((${#why[@]} == 0)) && t_pass "T4 a gc episode's hook: its environment and output" ||
	t_fail "T4 hook" "${why[*]}: $(cat "$tmp/hook.env" 2>/dev/null | tr '\n' ' ')"

OOMGUARD_HOOK_EXEC=$tmp/slow.sh OOMGUARD_HOOK_ON=gc-episode OOMGUARD_HOOK_TIMEOUT=300ms \
	cg_run "$dir" 30 "$OOMGUARD" -- "$gcsim" --limit 256M \
	--live 40 --duration 3 >/dev/null 2>"$tmp/t4b.log"
sleep 0.5
why=()
grep -q 'hook gc-episode: going to sleep' "$tmp/t4b.log" || why+=("no output logged")
grep -q 'hook gc-episode: killed at its timeout (300ms)' "$tmp/t4b.log" || why+=("not killed at its timeout")
pgrep -f 'sleep 31.7' >/dev/null && why+=("what the hook started lives on")
((${#why[@]} == 0)) && t_pass "T4 a hook past its timeout is killed, with what it started" ||
	t_fail "T4 hook timeout" "${why[*]}: $(grep hook "$tmp/t4b.log" | head -3)"
cg_destroy "$dir"

# T5
echo "# $((SECONDS - start)) s"
dir=$(cg_create "og-metrics-rs-$$" 256M oom_disable) || exit 1
rm -f "$tmp/hook.env"
OOMGUARD_HOOK_EXEC=$tmp/hook.sh OOMGUARD_HOOK_ON=restart OOMGUARD_RESTART_STARTUP=1s \
	cg_spawn "$dir" "$OOMGUARD" --kill-at none -c /dev/null --metrics "127.0.0.1:$port" \
	-- "$gcsim" --live 92 --garbage-ratio 1.0 --usr1 catch --exit-code 0 \
	>/dev/null 2>"$tmp/t5.log"
og=$CG_PID
t_wait_log "$tmp/t5.log" 'hook restart: exited with 0' 30
"$OOMGUARD" status --json --metrics "127.0.0.1:$port" >"$tmp/t5.json" 2>&1
t_stop "$og"
og=
pid=$(grep -m1 -o 'restart: .*SIGTERM to pid [0-9]*' "$tmp/t5.log" | grep -o '[0-9]*$')
why=()
[[ -n $pid ]] || why+=("no restart signal")
grep -q "^OOMGUARD_EVENT=restart$" "$tmp/hook.env" 2>/dev/null || why+=("no OOMGUARD_EVENT=restart")
grep -q "^OOMGUARD_SIGNAL=SIGTERM$" "$tmp/hook.env" 2>/dev/null || why+=("no OOMGUARD_SIGNAL=SIGTERM")
grep -q "^OOMGUARD_PID=$pid$" "$tmp/hook.env" 2>/dev/null || why+=("no OOMGUARD_PID=$pid")
# The hook runs before the signal where the cgroup has room for it (8M
# at least), else after (test_hook.sh tests which): its OOMGUARD_WHEN
# says which, and the log's order agrees.
hline=$(grep -n -m1 'hook restart: hello' "$tmp/t5.log" | cut -d: -f1)
sline=$(grep -n -m1 'restart: .*SIGTERM' "$tmp/t5.log" | cut -d: -f1)
if grep -q "^OOMGUARD_WHEN=before$" "$tmp/hook.env" 2>/dev/null; then
	[[ -n $hline && -n $sline ]] && ((hline < sline)) || why+=("a hook told before ran after the signal")
else
	[[ -n $hline && -n $sline ]] && ((sline < hline)) || why+=("a hook told after ran before the signal")
fi
grep -q '"restarts":[1-9]' "$tmp/t5.json" || why+=("status counts no restart")
((${#why[@]} == 0)) && t_pass "T5 a restart's hook, its environment, and the restart counted" ||
	t_fail "T5 restart hook" "${why[*]}: $(grep -E 'restart|hook' "$tmp/t5.log" | head -5)"
cg_destroy "$dir"
echo "# $((SECONDS - start)) s"
t_summary
