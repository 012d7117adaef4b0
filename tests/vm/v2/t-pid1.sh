#!/bin/sh
# t-pid1.sh - the entrypoint's PID 1 duties on the v2 kernel, with real
# processes (the v2 twin of test_pid1.sh): exit codes 0, 3, 143, 137, 127
# and 126; signals forwarded; SIGKILL a grace period after an ignored
# SIGTERM; orphans reaped (and shown to have been reparented to oomguard,
# so that the check cannot pass without an orphan); the same as PID 1 of a
# new PID namespace (busybox unshare).
#
# The test shell moves itself into a child cgroup first: the v2 root cgroup
# has no memory.current or memory.max for oomguard to watch.

. /payload/vmlib.sh

dir=$(cg_new pid1 max) || exit 1
echo $$ >"$dir/cgroup.procs" || exit 1

printf '#!/bin/sh\nexit 0\n' >"$TMP/noexec"
chmod 0644 "$TMP/noexec"

# exit_code NAME WANT CMD...
exit_code() {
	_name=$1
	_want=$2
	shift 2
	timeout 20 "$@" >/dev/null 2>"$TMP/err"
	_rc=$?
	if [ "$_rc" = "$_want" ]; then
		pass "$_name" "exit $_want"
	else
		fail "$_name" "exit $_rc, want $_want" -- "$TMP/err"
	fi
}

# run_codes PREFIX [LAUNCHER...]
run_codes() {
	_p=$1
	shift
	exit_code "v2-pid1-$_p-exit0" 0 "$@" oomguard --log-level warn -- spawner exit 0
	exit_code "v2-pid1-$_p-exit3" 3 "$@" oomguard --log-level warn -- spawner exit 3
	exit_code "v2-pid1-$_p-sigterm" 143 "$@" oomguard --log-level warn -- spawner signal TERM
	exit_code "v2-pid1-$_p-sigkill" 137 "$@" oomguard --log-level warn -- spawner signal KILL
	exit_code "v2-pid1-$_p-notfound" 127 "$@" oomguard --log-level warn -- /nonexistent/app
	exit_code "v2-pid1-$_p-noexec" 126 "$@" oomguard --log-level warn -- "$TMP/noexec"
}

# orphan_test PREFIX WANT_PPID [LAUNCHER...]: the app leaves a child that
# outlives it by a second. While it lives its parent must be oomguard
# (WANT_PPID "guard": the app's parent; or a number); once it has exited
# it must be gone, not a zombie.
orphan_test() {
	_p=$1
	_want=$2
	shift 2
	# shellcheck disable=SC2016 # expanded by the app's shell
	_out=$(timeout 20 "$@" oomguard --log-level warn -- sh -c '
		set -- $(spawner orphan 1)
		o=$2
		pp=$(sed -n "s/^PPid:[[:space:]]*//p" /proc/$o/status)
		echo "orphan $o ppid $pp guard $PPID"
		sleep 2
		st=$(sed -n "s/^State:[[:space:]]*\(.\).*/\1/p" /proc/$o/status 2>/dev/null)
		echo "after ${st:-gone}"
		exit 7' 2>"$TMP/orphan.err")
	_rc=$?
	# shellcheck disable=SC2086 # split into words on purpose
	set -- $_out
	# orphan PID ppid PPID guard GUARD after STATE
	[ "$_want" = guard ] && _want=${6:-none}
	if [ "$_rc" = 7 ] && [ "${1:-}" = orphan ] && [ "${4:-}" = "$_want" ] &&
		[ "${8:-}" = gone ]; then
		pass "v2-pid1-$_p-orphan" "orphan $2 reparented to pid $4, reaped after it exited; exit 7"
	else
		fail "v2-pid1-$_p-orphan" "exit $_rc (want 7), want the orphan's parent $_want and then gone: $_out" -- "$TMP/orphan.err"
	fi
}

run_codes child
if timeout 20 oomguard -- /nonexistent/app 2>&1 | grep -q 'cannot run /nonexistent/app'; then
	pass v2-pid1-exec-message "exec failure names the program"
else
	fail v2-pid1-exec-message "no 'cannot run /nonexistent/app' message"
fi

# Signals sent to oomguard reach the app; SIGTERM ends both with its code.
oomguard --log-level warn -- spawner trap 20 >"$TMP/trap" 2>&1 &
og=$!
wait_line 50 "$TMP/trap" '^ready$'
for s in HUP USR1 USR2 INT; do
	kill -"$s" "$og"
	usleep 200000
done
kill -TERM "$og"
wait_pid 50 "$og"
got=$(grep -cE '^SIG(HUP|USR1|USR2|INT|TERM)$' "$TMP/trap")
if [ "$got" = 5 ] && [ "$WAITED" = 0 ]; then
	pass v2-pid1-forward "HUP USR1 USR2 INT TERM forwarded; oomguard exits with the app's 0"
else
	fail v2-pid1-forward "$got of 5 signals arrived, exit $WAITED (want 0)" -- "$TMP/trap"
fi

# An app that ignores SIGTERM is killed a grace period later: never
# before it (the guarantee); how long after is the machine's load, and
# wait_pid's bound catches a SIGKILL that never comes.
oomguard --log-level warn --grace 1s -- sh -c 'trap "" TERM; while :; do sleep 0.1; done' &
og=$!
usleep 500000
start=$(now_ms)
kill -TERM "$og"
wait_pid 50 "$og"
ms=$(($(now_ms) - start))
if [ "$WAITED" = 137 ] && [ "$ms" -ge 1000 ]; then
	pass v2-pid1-grace "SIGTERM ignored: SIGKILL after the grace period, exit 137 (${ms} ms after SIGTERM)"
else
	fail v2-pid1-grace "exit $WAITED ${ms} ms after SIGTERM (want 137, not before the 1 s grace)"
fi

orphan_test child guard

if ! unshare --pid --fork --mount-proc true 2>"$TMP/unshare.err"; then
	fail v2-pid1-pidns "busybox unshare --pid --fork --mount-proc failed" -- "$TMP/unshare.err"
	exit 0
fi
run_codes pidns unshare --pid --fork --mount-proc
orphan_test pidns 1 unshare --pid --fork --mount-proc
# shellcheck disable=SC2016 # the app's $$
out=$(timeout 20 unshare --pid --fork --mount-proc oomguard --log-level warn -- sh -c 'echo $$ $PPID' 2>"$TMP/pids.err")
if [ "$out" = "2 1" ]; then
	pass v2-pid1-pidns-pids "in a PID namespace oomguard is PID 1, the app PID 2"
else
	fail v2-pid1-pidns-pids "app's pid and parent: '$out', want '2 1'" -- "$TMP/pids.err"
fi
