#!/bin/bash
# The entrypoint's PID 1 duties, with real processes: exit codes passed on
# (0, 3, 143, 137; 127 and 126 when exec fails), signals forwarded,
# orphans reaped, SIGTERM with a grace period; and the same as PID 1 of a
# new PID namespace.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/lib/testlib.sh"
sp=$WORKLOAD_DIR/spawner
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
og() { "$OOMGUARD" --log-level warn "$@"; }

exit_code() { # NAME WANT cmd...
	local name=$1 want=$2 rc
	shift 2
	t_timeout 20 "$@" >/dev/null 2>"$tmp/err"
	rc=$?
	[[ $rc == "$want" ]] && t_pass "$name: exit $want" || t_fail "$name" "exit $rc, want $want: $(<"$tmp/err")"
}

run_suite() { # PREFIX cmd-prefix...: the exit-code and reaping tests under a launcher
	local p=$1
	shift
	exit_code "$p exit 0" 0 "$@" "$OOMGUARD" --log-level warn -- "$sp" exit 0
	exit_code "$p exit 3" 3 "$@" "$OOMGUARD" --log-level warn -- "$sp" exit 3
	exit_code "$p SIGTERM death" 143 "$@" "$OOMGUARD" --log-level warn -- "$sp" signal TERM
	exit_code "$p SIGKILL death" 137 "$@" "$OOMGUARD" --log-level warn -- "$sp" signal KILL
	exit_code "$p not found" 127 "$@" "$OOMGUARD" --log-level warn -- /nonexistent/app
	exit_code "$p not executable" 126 "$@" "$OOMGUARD" --log-level warn -- "$tmp/noexec"
}
printf '#!/bin/sh\nexit 0\n' >"$tmp/noexec"
chmod 0644 "$tmp/noexec"

run_suite "child"
grep -q "cannot run /nonexistent/app" < <(og -- /nonexistent/app 2>&1) &&
	t_pass "exec failure names the program" || t_fail "exec failure message" "no message"

# Signals sent to oomguard reach the app; SIGTERM ends both with the app's code.
# (not through og: a backgrounded function is a subshell, and $! its PID)
"$OOMGUARD" --log-level warn -- "$sp" trap 20 >"$tmp/trap" 2>&1 &
ogpid=$!
pids+=("$ogpid")
for _ in $(seq 100); do grep -q ready "$tmp/trap" && break; sleep 0.05; done
for s in HUP USR1 USR2 INT; do
	kill -"$s" "$ogpid"
	sleep 0.2
done
kill -TERM "$ogpid"
wait "$ogpid"
rc=$?
got=$(grep -c -E '^SIG(HUP|USR1|USR2|INT|TERM)$' "$tmp/trap")
[[ $got == 5 ]] && t_pass "HUP USR1 USR2 INT TERM forwarded" || t_fail "forwarding" "$(<"$tmp/trap")"
[[ $rc == 0 ]] && t_pass "SIGTERM: oomguard exits with the app's 0" || t_fail "SIGTERM exit" "exit $rc"

# An app that ignores SIGTERM is killed after the grace period.
start=${EPOCHREALTIME/[.,]/}
"$OOMGUARD" --log-level warn --grace 1s -- sh -c 'trap "" TERM; while :; do sleep 0.1; done' &
ogpid=$!
pids+=("$ogpid")
sleep 0.5
kill -TERM "$ogpid"
wait "$ogpid"
rc=$?
ms=$(((${EPOCHREALTIME/[.,]/} - start) / 1000))
[[ $rc == 137 ]] && t_pass "SIGTERM ignored: SIGKILL after grace, exit 137 (${ms} ms)" ||
	t_fail "grace kill" "exit $rc after ${ms} ms"

# Orphans: the app leaves a grandchild behind; oomguard reaps it.
orphan_test() { # NAME launcher...
	local name=$1 out zombies
	shift
	out=$(t_timeout 20 "$@" "$OOMGUARD" --log-level warn -- sh -c "
		$sp orphan 1 >/dev/null || exit 99
		sleep 2.5
		# the orphan has exited: is it a zombie still?
		for s in /proc/[0-9]*/stat; do
			read -r line < \$s 2>/dev/null || continue
			case \$line in *') Z '*) echo zombie \$line;; esac
		done
		exit 7" 2>&1)
	local rc=$?
	zombies=$(grep -c '^zombie.*(spawner)' <<<"$out")
	if [[ $rc == 7 && $zombies == 0 ]]; then
		t_pass "$name: orphan reaped, exit 7"
	else
		t_fail "$name orphan" "exit $rc, zombies $zombies: $out"
	fi
}
orphan_test "subreaper"

if unshare --pid --fork --mount-proc true 2>/dev/null; then
	run_suite "pid-ns" unshare --pid --fork --mount-proc
	orphan_test "pid-ns PID 1" unshare --pid --fork --mount-proc
	out=$(unshare --pid --fork --mount-proc "$OOMGUARD" --log-level error -- sh -c 'echo $$' 2>&1)
	[[ $out == 2 ]] && t_pass "in a PID namespace oomguard is PID 1, the app PID 2" ||
		t_fail "pid-ns pids" "$out"
else
	t_skip "PID namespace" "unshare --pid not permitted here"
fi
t_summary
