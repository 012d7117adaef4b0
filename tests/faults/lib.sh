# shellcheck shell=bash source-path=SCRIPTDIR/../lib
# lib.sh: what the fault tests share (bash), beside tests/lib, whose
# testlib.sh and cgroup.sh it sources. Sourcing defines functions and
# nothing else.
#
#   f_setup                     skip (and exit) without root and v1; else
#                               the traps, $tmp, and a sentinel started
#   f_gcsim NAME                a new 256M cgroup og-NAME-PID ($dir) with
#                               gcsim ($app) holding a steady 62% of it;
#                               returns once it holds 150 MiB
#   f_sentinel_check NAME       pass when the sentinel, a process outside
#                               every watched cgroup that logs each signal
#                               it catches, is alive and caught none
#   f_fds PID                   print how many descriptors PID holds
#   f_limits DIR                print DIR's limit and memsw limit
#   f_wait_usage DIR BYTES SEC  wait until DIR's usage is over BYTES
#   f_mark FILE                 print FILE's line count, for f_wait_after
#   f_wait_after FILE MARK ERE SEC
#                               wait for ERE in FILE's lines after MARK
#   f_count_after FILE MARK ERE print how many lines after MARK match ERE
#   f_stop                      the faults over: 0.5 s later set fds1 (the
#                               descriptors of oomguard, $og) and limits
#                               ($dir's), then SIGTERM it; rc its exit code
#
# A log oomguard writes to is never edited in place (sed -i would leave
# oomguard writing to the old file): later lines are told apart by marks.
#
# Every fault is checked for what must never happen besides its own
# outcome: a signal to a process outside the watched cgroup (the
# sentinel), a limit left otherwise than the operator set it, a
# descriptor leak (the count before and after the fault).

# shellcheck source=testlib.sh
source "${BASH_SOURCE[0]%/*}/../lib/testlib.sh"
# shellcheck source=cgroup.sh
source "${BASH_SOURCE[0]%/*}/../lib/cgroup.sh"

f_setup() {
	cg_test_setup sentinel
	cg_need_v1 "$(basename "$0" .sh)" "needs root and a v1 memory cgroup (v2 runs in the VM suite)"
	# The sentinel runs in this test's own cgroup, outside every one a
	# test makes; it catches what oomguard could send by mistake.
	bash -c 'for s in USR1 USR2 TERM HUP INT QUIT ALRM; do trap "echo $s >>$1" "$s"; done
		while :; do sleep 0.2; done' sentinel "$tmp/sentinel.caught" &
	sentinel=$!
}

f_gcsim() {
	dir=$(cg_create "og-$1-$$" 256M)
	cg_spawn "$dir" "$WORKLOAD_DIR/gcsim" --limit 256M --live 62 --garbage-ratio 1.0 >/dev/null
	# shellcheck disable=SC2034 # read by the caller
	app=$CG_PID
	f_wait_usage "$dir" $((150 << 20)) 20 || t_fail "setup" "gcsim did not reach 150 MiB"
}

f_sentinel_check() {
	if kill -0 "$sentinel" 2>/dev/null && [[ ! -s $tmp/sentinel.caught ]]; then
		t_pass "$1: no signal to a process outside the watched cgroup"
	else
		t_fail "$1: a process outside the watched cgroup" \
			"signalled: $(tr '\n' ' ' <"$tmp/sentinel.caught" 2>/dev/null)"
	fi
}

f_fds() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

f_limits() {
	echo "$(<"$1/memory.limit_in_bytes") $(cat "$1/memory.memsw.limit_in_bytes" 2>/dev/null)"
}

f_wait_usage() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		(($(cg_usage "$1") > $2)) && return 0
		sleep 0.1
	done
	return 1
}

f_mark() {
	wc -l <"$1"
}

f_wait_after() {
	local i
	for ((i = 0; i < $4 * 10; i++)); do
		tail -n +"$(($2 + 1))" "$1" | grep -qE -- "$3" && return 0
		sleep 0.1
	done
	return 1
}

f_count_after() {
	tail -n +"$(($2 + 1))" "$1" | grep -cE -- "$3"
}

# shellcheck disable=SC2034,SC2154 # og is the caller's; it reads the rest
f_stop() {
	sleep 0.5
	fds1=$(f_fds "$og")
	limits=$(f_limits "$dir")
	kill -TERM "$og"
	wait "$og"
	rc=$?
}
