#!/bin/sh
# t-churn.sh - a fast collector kept alive on cgroup v2 by gc requests
# paced by their effect, with oomguard's default settings.
#
# churn (tests/workload/churn.c) replaces its heap at CHURN_RATE MB/s
# (200), keeps 60% of a 128M memory.max live and frees its garbage at once
# on SIGUSR1. Under oomguard as its entrypoint for CHURN_SECS seconds (20),
# then SIGTERM to oomguard, passed on: the app must exit with its own code
# (7), with no SIGKILL or restart signal from oomguard, no OOM kill (v2
# always has the OOM killer on), gc requests served, and at most 2 gc info
# lines a second in the log. Twice: as is (memory.events watched), and
# with the cgroupfs read-only in a private mount namespace (polling).
#
# With SURVIVAL=1 (suite.env; VM_SURVIVAL=1 for check.sh) it prints the
# survival matrix of tests/bench/survival.sh instead, for v2: rates
# SURVIVAL_RATES (50 100 200 400) x live shares (40 60) x both paths,
# SURVIVAL_SECS (10) each, as SURVIVAL lines.

. /payload/vmlib.sh

# churn_run NAME RATE LIVE SECS RO(0|1): one run in og-NAME; sets WAITED,
# OOMS, PEAK, SERVED, ALLOCATED, KILLS, RESTARTS, INFO, CPU_NS.
churn_run() {
	_dir=$(cg_new "$1" 128M) || exit 1
	_cmd="oomguard -c /dev/null -- churn --limit 128M --rate $2 --live $3 --exit-code 7"
	if [ "$5" = 1 ]; then
		# shellcheck disable=SC2086 # _cmd is split on purpose
		cg_spawn "$_dir" "$TMP/$1.log" unshare -m sh -c 'mount --bind /sys/fs/cgroup /sys/fs/cgroup &&
			mount -o remount,bind,ro /sys/fs/cgroup && exec "$@"' sh $_cmd
	else
		# shellcheck disable=SC2086
		cg_spawn "$_dir" "$TMP/$1.log" $_cmd
	fi
	_pid=$SPAWNED
	usleep 500000
	_t0=$(cut -d' ' -f1 "/proc/$_pid/schedstat" 2>/dev/null)
	wait_until $(($4 * 10)) _ended "$_pid"
	_t1=$(cut -d' ' -f1 "/proc/$_pid/schedstat" 2>/dev/null)
	kill -TERM "$_pid" 2>/dev/null
	wait_pid 150 "$_pid"
	OOMS=$(ev "$_dir" oom_kill)
	PEAK=$(cat "$_dir/memory.peak")
	SERVED=$(sed -n 's/^churn: exit 7 (SIGTERM): usr1 [0-9]* served \([0-9]*\) .*/\1/p' "$TMP/$1.log")
	ALLOCATED=$(sed -n 's/^churn: exit .* allocated \([0-9]*\) MB.*/\1/p' "$TMP/$1.log")
	KILLS=$(grep -c ' kill: ' "$TMP/$1.log")
	RESTARTS=$(grep -c ' restart: \|restarting the app' "$TMP/$1.log")
	INFO=$(grep -c ' info  \| warn  \| error ' "$TMP/$1.log")
	CPU_NS=$((${_t1:-0} - ${_t0:-0}))
	cg_destroy "$_dir"
}

# check_run NAME SECS RO: the test's run and its checks.
check_run() {
	churn_run "$1" "${CHURN_RATE:-200}" 60 "$2" "$3"
	if [ "$WAITED" = 7 ] && [ "$OOMS" = 0 ] && [ "$KILLS" = 0 ] && [ "$RESTARTS" = 0 ] &&
		[ "${SERVED:-0}" -gt 0 ]; then
		pass "v2-$1-lives" "${2}s at ${CHURN_RATE:-200} MB/s ($((${ALLOCATED:-0} / $2)) MB/s reached): exit 7, oom_kill 0, no SIGKILL, no restart, $SERVED gc requests served, peak $((PEAK >> 20)) MiB of 128"
	else
		fail "v2-$1-lives" "exit $WAITED (want 7), oom_kill $OOMS, kill lines $KILLS, restart lines $RESTARTS, served ${SERVED:-none}" -- "$TMP/$1.log"
	fi
	_lines=$(grep -c ' info  gc' "$TMP/$1.log")
	if [ "$_lines" -le $((2 * $2 + 2)) ]; then
		pass "v2-$1-log" "$_lines gc info lines in ${2}s"
	else
		fail "v2-$1-log" "$_lines gc info lines in ${2}s (want at most $((2 * $2 + 2)))" -- "$TMP/$1.log"
	fi
}

if [ "${SURVIVAL:-0}" != 1 ]; then
	check_run churn "${CHURN_SECS:-20}" 0
	check_run churn-ro "${CHURN_SECS:-20}" 1
	exit 0
fi

secs=${SURVIVAL_SECS:-10}
echo "SURVIVAL path MB/s live SIGKILL oom_kill peak% gc/s info/s cpu% reached_MB/s end"
for rate in ${SURVIVAL_RATES:-50 100 200 400}; do
	for live in 40 60; do
		for ro in 0 1; do
			churn_run "surv-$rate-$live-$ro" "$rate" "$live" "$secs" "$ro"
			echo "SURVIVAL $([ $ro = 1 ] && echo polling || echo events) $rate $live $KILLS $OOMS" \
				"$((PEAK * 100 / (128 << 20))) $((${SERVED:-0} / secs)) $((INFO / secs))" \
				"$((CPU_NS / secs / 10000000)) $((${ALLOCATED:-0} / secs)) exit-$WAITED"
		done
	done
done
pass v2-survival "the matrix above ($secs s per run)"
