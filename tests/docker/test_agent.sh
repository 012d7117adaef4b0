#!/bin/bash
# The host agent (oomguard --docker, on the host) against the real dockerd,
# with gcsim (tests/workload/gcsim.c, linked statically and mounted into
# busybox containers) as the app:
#  A1. three labelled containers under --memory 256m --oom-kill-disable for
#      AGENT_SECS (60): one there before the agent (its PID 1 a shell that
#      execs gcsim), two started after; none freezes, gc requests logged by
#      each container's name
#  A2. an unlabelled container that freezes: left alone (never named)
#  A3. docker update --memory 200m: the new levels logged within 1 s
#  A4. docker stop and rm: no longer guarded
#  A5. a bad label (oomguard.gc.at=80): logged with the container's name,
#      the label and why, that container unguarded, the agent guards on
#  M1. --metrics: /metrics serves each container's series labelled with
#      its cgroup and name="<container>"; promtool check metrics is clean
#  M2. a container removed: its series are gone
#  R1. SIGHUP after the file's levels changed: the unlabelled containers'
#      new gc level logged and served; a container whose label
#      (oomguard.gc.at=89%) no longer holds over the new [restart] at = 88%
#      is let go with the reason, its series gone
#  A6. dockerd stopped and started again while the agent runs (only when
#      this run started dockerd): the loss logged, the engine found again,
#      the agent alive throughout
#  A7. SIGTERM: the agent ends with 0
# Every container is removed at the end. Run by run.sh (OOMGUARD and
# WORKLOAD_SRC set by make check-docker), or alone as root under the test
# lock: flock /tmp/oomguard-test.lock make build/oomguard &&
#   OOMGUARD=build/oomguard bash tests/docker/test_agent.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/../lib/testlib.sh"
source "$here/lib.sh"
source "$here/../lib/prometheus.sh"
standalone=
if [[ -z ${DK_RUN:-} ]]; then
	standalone=1
	dk_harness agent a
	dk_daemon_up "$DK_LOGDIR" || exit 1
	dk_base_images >/dev/null || exit 1
fi
OOMGUARD=${OOMGUARD:?OOMGUARD: the host binary, build/oomguard}
secs=${AGENT_SECS:-60}
port=$((20000 + $$ % 20000))
trap 'exit 143' TERM
work=$(mktemp -d /tmp/oomguard-agent-work.XXXXXX)
og=
stop_og() {
	[[ -n $og ]] && kill "$og" 2>/dev/null && wait "$og" 2>/dev/null
	og=
}
trap 'stop_og; rm -rf "$work"; if [[ -n $standalone ]]; then dk_cleanup; else dk_rm_all; fi' EXIT

gcc -std=gnu11 -D_GNU_SOURCE -O2 -static -o "$work/gcsim" "$root/tests/workload/gcsim.c" || {
	t_fail "agent" "cannot build a static gcsim"
	exit 0
}
app=(-v "$work/gcsim:/gcsim:ro" --memory 256m --memory-swap 256m --oom-kill-disable)
gc=(/gcsim --limit 256M --rate 100 --duration $((secs + 30)))
printf '[watch]\npoll_max = 500ms\n' >"$work/og.ini"

# A1: one labelled container there before the agent: a shell that execs
# gcsim once the agent has started.
c0=$(dk_run g0 "${app[@]}" --label oomguard.enable=true "$DK_BUSYBOX" \
	sh -c "sleep 2; exec ${gc[*]}")
"$OOMGUARD" --docker -c "$work/og.ini" --metrics "127.0.0.1:$port" 2>"$work/og.log" &
og=$!
t_wait_log "$work/og.log" "container og-$DK_RUN-g0: guarded" 10 ||
	t_fail "A1: listed at the start" "$(head -5 "$work/og.log" | cut -c1-200)"
# g1 is A3's: its live set (40% of 256 MiB, 102 MiB) stays under the gc
# level of the 200 MiB it is updated to, so that the update leaves it
# running; with gcsim's default 60% (154 MiB) it could cross the new
# restart level at once, be restarted and stop before M2 and R1 look.
c1=$(dk_run g1 "${app[@]}" --label oomguard.enable=true "$DK_BUSYBOX" "${gc[@]}" --live 40)
c2=$(dk_run g2 "${app[@]}" --label oomguard.enable=true --label oomguard.gc.at=70% \
	"$DK_BUSYBOX" "${gc[@]}")
# A2: unlabelled, frozen alone.
f=$(dk_run free "${app[@]}" "$DK_BUSYBOX" "${gc[@]}")
# R1's: a label that holds over the file until the reload.
dk_run lab --label oomguard.enable=true --label oomguard.gc.at=89% "$DK_BUSYBOX" sleep 600 >/dev/null
# A5: a bad label.
dk_run bad --label oomguard.enable=true --label oomguard.gc.at=80 "$DK_BUSYBOX" sleep 600 >/dev/null
if t_wait_log "$work/og.log" "container og-$DK_RUN-bad: label oomguard.gc.at: \\[gc\\] at: '80' is not .*left unguarded" 5; then
	t_pass "A5: a bad label logged with the container's name, the label and why; left unguarded"
else
	t_fail "A5: bad label" "$(grep -i bad "$work/og.log" | head -3 | cut -c1-200)"
fi

sleep "$secs"
ids=([0]="$c0" [1]="$c1" [2]="$c2")
for i in 0 1 2; do
	n=g$i c=og-$DK_RUN-g$i
	dir=$(dk_memdir "${ids[$i]}")
	# The first request of an episode has a line of its own, the others
	# are summed up once a second ("gc: 3 more requests in 1.0s").
	gcs=$(grep -c "container $c: gc: " "$work/og.log")
	if [[ -n $dir && $(dk_under_oom "$dir") == 0 ]] && ((gcs > 0)) &&
		[[ $(dk 10 inspect -f '{{.State.Running}}' "$c") == true ]]; then
		t_pass "A1: $n ran ${secs}s under 256m --oom-kill-disable, never frozen, $gcs gc lines logged by its name"
	else
		t_fail "A1: $n" "under_oom $(dk_under_oom "$dir"), $gcs gc lines; $(grep "$c" "$work/og.log" | tail -3 | cut -c1-200)"
	fi
done
# M1: each container's series, with its name.
http_get "127.0.0.1:$port" /metrics >"$work/m1.prom" 2>/dev/null
named=0
for i in 0 1 2; do
	grep -q "^oomguard_memory_limit_bytes{cgroup=\"[^\"]*\",name=\"og-$DK_RUN-g$i\"} 268435456$" \
		"$work/m1.prom" && named=$((named + 1))
done
if ((named == 3)) && grep -q "^oomguard_gc_requests_total{cgroup=.*,name=\"og-$DK_RUN-g0\"} [1-9]" "$work/m1.prom"; then
	t_pass "M1: /metrics serves g0's, g1's and g2's series, each with its name, g0's gc requests counted"
else
	t_fail "M1: named series" "$named of 3; $(grep -m4 -e memory_limit -e gc_requests_total "$work/m1.prom")"
fi
if promtool check metrics <"$work/m1.prom" >"$work/m1.lint" 2>&1; then
	t_pass "M1: promtool check metrics is clean on the agent's /metrics"
else
	t_fail "M1: promtool" "$(head -5 "$work/m1.lint")"
fi
fdir=$(dk_memdir "$f")
if [[ $(dk_under_oom "$fdir") == 1 ]] && ! grep -q "og-$DK_RUN-free" "$work/og.log"; then
	t_pass "A2: the unlabelled container froze and was left alone"
else
	t_fail "A2: unlabelled" "under_oom $(dk_under_oom "$fdir"); $(grep "og-$DK_RUN-free" "$work/og.log" | head -2)"
fi

# A3: docker update --memory.
dk 30 update --memory 200m --memory-swap 200m "$c1" >/dev/null
if t_wait_log "$work/og.log" "container og-$DK_RUN-g1: limit 200.0MiB: gc at 150.0MiB" 1; then
	t_pass "A3: docker update --memory 200m: the new levels logged within 1 s"
else
	t_fail "A3: update" "$(grep "og-$DK_RUN-g1: limit" "$work/og.log" | tail -2 | cut -c1-200)"
fi

# A4: stopped and removed.
dk_rm "$c2"
if t_wait_log "$work/og.log" "og-$DK_RUN-g2.*no longer guarded" 5; then
	t_pass "A4: docker rm: no longer guarded"
else
	t_fail "A4: rm" "$(grep "og-$DK_RUN-g2" "$work/og.log" | tail -2 | cut -c1-200)"
fi

# M2: g2's series gone with it.
http_get "127.0.0.1:$port" /metrics >"$work/m2.prom" 2>/dev/null
if grep -q "name=\"og-$DK_RUN-g1\"" "$work/m2.prom" && ! grep -q "name=\"og-$DK_RUN-g2\"" "$work/m2.prom"; then
	t_pass "M2: a removed container's series are gone"
else
	t_fail "M2: removed container's series" "$(grep -c "og-$DK_RUN-g2" "$work/m2.prom") left"
fi

# R1: SIGHUP with new levels in the file.
printf '[watch]\npoll_max = 500ms\n[gc]\nat = 60%%\n[restart]\nat = 88%%\n' >"$work/og.ini"
kill -HUP "$og"
if t_wait_log "$work/og.log" "configuration reloaded from $work/og.ini" 5 &&
	t_wait_log "$work/og.log" "container og-$DK_RUN-g1: limit 200.0MiB: gc at 120.0MiB" 5 &&
	t_wait_log "$work/og.log" "container og-$DK_RUN-lab: .*\[restart\] at must be above .*; no longer guarded" 5 &&
	http_get "127.0.0.1:$port" /metrics >"$work/r1.prom" 2>/dev/null &&
	grep -q "^oomguard_level_bytes{cgroup=.*,name=\"og-$DK_RUN-g1\",level=\"gc\"} $((120 << 20))$" "$work/r1.prom" &&
	! grep -q "name=\"og-$DK_RUN-lab\"" "$work/r1.prom"; then
	t_pass "R1: SIGHUP: g1's new gc level (60% of 200m) logged and served; lab, its label now invalid, let go"
else
	t_fail "R1: reload" "$(grep -e reload -e 'g1: limit' -e 'lab:' "$work/og.log" | tail -4 | cut -c1-250)"
fi

# A6: the engine restarted under the agent.
if [[ -n $standalone && -n ${DK_STARTED_PID:-} ]]; then
	dk_rm_frozen "$f" "$fdir" >/dev/null 2>&1
	dk_daemon_down
	if t_wait_log "$work/og.log" "docker: .*guarded on" 10; then
		t_pass "A6: dockerd stopped: the loss logged"
	else
		t_fail "A6: engine loss" "$(tail -3 "$work/og.log" | cut -c1-200)"
	fi
	dk_daemon_up "$DK_LOGDIR" >/dev/null
	for _ in $(seq 300); do
		(($(grep -c "the engine answers" "$work/og.log") >= 2)) && break
		sleep 0.1
	done
	if (($(grep -c "the engine answers" "$work/og.log") >= 2)) && kill -0 "$og" 2>/dev/null; then
		t_pass "A6: dockerd started again: the engine found again, the agent alive throughout"
	else
		t_fail "A6: reconnect" "$(tail -3 "$work/og.log" | cut -c1-200)"
	fi
else
	t_skip "A6: dockerd restart" "dockerd was not started by this run"
fi

# A7: SIGTERM.
kill -TERM "$og"
t_timeout 10 tail --pid="$og" -f /dev/null
wait "$og"
rc=$?
og=
((rc == 0)) && t_pass "A7: SIGTERM: exit 0" || t_fail "A7: SIGTERM" "exit $rc"
[[ -n ${KEEP_LOGS:-} ]] && cp "$work/og.log" "${DK_LOGDIR:-/tmp}/agent.log"
[[ -n $standalone ]] && dk_finish
exit 0
