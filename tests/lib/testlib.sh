# testlib.sh: minimal TAP-like reporting for oomguard's shell tests (bash).
#
# Source it; sourcing defines functions and nothing else.
#
#   t_pass NAME          "ok N - NAME"
#   t_fail NAME WHY      "not ok N - NAME: WHY"
#   t_skip NAME WHY      "ok N - NAME # SKIP WHY"
#   t_summary            print "P passed, F failed, S skipped" as the last
#                        line; return 1 if anything failed (or nothing ran)
#   t_timeout SEC cmd... run cmd (an executable, not a shell function) in a
#                        process group of its own; return its exit status, or
#                        124 after a message if it ran longer than SEC: then
#                        the whole group gets SIGTERM, and SIGKILL 2 s later
#   t_wait_log F P SEC   wait up to SEC seconds for grep pattern P in file F
#   t_stop PID           SIGTERM PID (a child of this shell) and wait for
#                        it to end, up to 10 s
#
# Results are appended to a file named after the main shell's PID ($$), so
# t_pass and t_fail count even when called from a subshell or a pipeline.
# ${T_RESULTS} overrides the file's name.

_t_results() {
	printf '%s\n' "${T_RESULTS:-${TMPDIR:-/tmp}/oomguard-t.$$}"
}

# _t_record KIND: count a result of KIND (pass, fail, skip); print its number.
_t_record() {
	local file n
	file=$(_t_results)
	printf '%s\n' "$1" >>"$file"
	n=$(wc -l <"$file")
	printf '%d\n' "$n"
}

t_pass() {
	printf 'ok %d - %s\n' "$(_t_record pass)" "$1"
}

t_fail() {
	printf 'not ok %d - %s: %s\n' "$(_t_record fail)" "$1" "$2"
}

t_skip() {
	printf 'ok %d - %s # SKIP %s\n' "$(_t_record skip)" "$1" "$2"
}

# t_unlocked: whether $OOMGUARD cannot lock its memory: built with
# AddressSanitizer, whose runtime makes mlockall() a no-op, so that the
# shadow of its stack and heap faults in as it goes. Such an oomguard
# inside a frozen cgroup can freeze with it: the tests of a rescue from
# inside skip themselves there.
t_unlocked() {
	grep -qa __asan_init "$OOMGUARD"
}

# t_skip_unlocked NAME: where t_unlocked, skip the tests NAME (a rescue
# from inside the frozen cgroup) and return 0; else return 1.
t_skip_unlocked() {
	t_unlocked || return 1
	t_skip "$1 under AddressSanitizer" \
		"mlockall is a no-op there, so oomguard in the frozen cgroup can fault with it"
}

t_summary() {
	local file kind pass=0 fail=0 skip=0
	file=$(_t_results)
	if [[ -f $file ]]; then
		while read -r kind; do
			case $kind in
			pass) pass=$((pass + 1)) ;;
			fail) fail=$((fail + 1)) ;;
			skip) skip=$((skip + 1)) ;;
			esac
		done <"$file"
		rm -f "$file"
	fi
	printf '%d passed, %d failed, %d skipped\n' "$pass" "$fail" "$skip"
	# A run in which nothing ran at all is a broken run, not a success.
	((fail == 0 && pass + skip > 0))
}

# _t_state PID: print the one-letter state of PID (Z for a zombie), or
# nothing once it is gone.
_t_state() {
	local line
	read -r line 2>/dev/null <"/proc/$1/stat" || return 0
	line=${line##*) }
	printf '%s\n' "${line%% *}"
}

t_timeout() {
	local secs=$1 pid rc had_m=0 deadline now
	shift
	# The child must not be a process group leader for setsid(1) to call
	# setsid() without forking, which keeps $! the command's own PID. A
	# job started without job control stays in our group, so turn job
	# control off for the fork.
	[[ $- == *m* ]] && had_m=1
	set +m
	setsid "$@" <&0 &
	pid=$!
	((had_m)) && set -m

	deadline=$((${EPOCHREALTIME/[.,]/} + secs * 1000000))
	while :; do
		case $(_t_state "$pid") in
		'' | Z) break ;;
		esac
		now=${EPOCHREALTIME/[.,]/}
		if ((now >= deadline)); then
			printf 't_timeout: hung after %ss, killing process group %d: %s\n' \
				"$secs" "$pid" "$*" >&2
			kill -TERM -- "-$pid" 2>/dev/null
			deadline=$((now + 2000000))
			while [[ -n $(_t_state "$pid") && $(_t_state "$pid") != Z ]] &&
				((${EPOCHREALTIME/[.,]/} < deadline)); do
				sleep 0.05
			done
			kill -KILL -- "-$pid" 2>/dev/null
			wait "$pid" 2>/dev/null || :
			return 124
		fi
		sleep 0.05
	done
	rc=0
	wait "$pid" || rc=$?
	return $rc
}

# t_wait_log FILE PATTERN SECS: wait up to SECS seconds for the grep
# pattern PATTERN to appear in FILE; return 1 if it does not.
t_wait_log() {
	for _ in $(seq $(($3 * 10))); do
		grep -q -- "$2" "$1" && return 0
		sleep 0.1
	done
	return 1
}

t_stop() {
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	wait "$1" 2>/dev/null
}
