# shellcheck shell=sh
# shellcheck disable=SC2034 # SPAWNED and WAITED are for the sourcing test
# vmlib.sh - helpers for the cgroup v2 suite, run inside the test VM under
# busybox sh (ash). Sourced by each t-*.sh; defines functions and a few
# variables, starts nothing.
#
#   pass NAME WHY...              RESULT NAME PASS WHY
#   skip NAME WHY...              RESULT NAME SKIP WHY
#   fail NAME WHY [-- FILE...]    RESULT NAME FAIL WHY, then the last lines
#                                 of each FILE, each line prefixed "| "
#   check NAME WHY CMD...         pass when CMD succeeds, else fail
#   cg_new NAME MAX [HIGH]        make $CG/og-NAME with memory.max MAX (and
#                                 memory.high HIGH); print its directory
#   cg_spawn DIR OUT CMD...       start CMD in DIR in the background, its
#                                 stdout and stderr to OUT; sets SPAWNED to
#                                 its pid (which `wait` and `kill` take)
#   cg_destroy DIR                kill everything in DIR, remove it
#   ev DIR KEY                    print counter KEY of DIR/memory.events
#   wait_until TENTHS CMD...      retry CMD every 0.1 s for TENTHS tenths
#   wait_line TENTHS FILE ERE     wait until FILE has a line matching ERE
#   wait_pid TENTHS PID           wait for PID to end; its status in
#                                 WAITED (or "overran", after a SIGKILL)
#   now_ms                        milliseconds since boot
#   log_ms LINE                   milliseconds since midnight (UTC) of an
#                                 oomguard text log line
#
# Every test names its cgroups og-* under /sys/fs/cgroup, so suite.sh can
# remove whatever a test that timed out left behind. Scratch files go to
# $TMP (/tmp/<test>), which suite.sh keeps for the failure reports.

# Settings written by check.sh (GC_SECS).
# shellcheck source=/dev/null
[ -r /payload/suite.env ] && . /payload/suite.env

CG=/sys/fs/cgroup
TEST=${TEST:-$(basename "$0" .sh)}
TMP=/tmp/$TEST
mkdir -p "$TMP"

pass() {
	_n=$1
	shift
	vm-result "$_n" PASS "$*"
}

skip() {
	_n=$1
	shift
	vm-result "$_n" SKIP "$*"
}

fail() {
	_n=$1
	_why=$2
	shift 2
	vm-result "$_n" FAIL "$_why"
	[ "${1:-}" = -- ] && shift
	for _f in "$@"; do
		[ -f "$_f" ] || continue
		echo "| --- $_f (last 15 lines)"
		tail -n 15 "$_f" | sed 's/^/| /'
	done
}

check() {
	_n=$1
	_why=$2
	shift 2
	if "$@"; then
		pass "$_n" "$_why"
	else
		fail "$_n" "$_why: check failed: $*"
	fi
}

cg_new() {
	_d=$CG/og-$1
	mkdir "$_d" || return 1
	echo "$2" >"$_d/memory.max" || return 1
	if [ -n "${3:-}" ]; then
		echo "$3" >"$_d/memory.high" || return 1
	fi
	echo "$_d"
}

# The subshell joins the cgroup before it execs CMD, so CMD is charged
# there from its first page; $! is the subshell, which becomes CMD.
cg_spawn() {
	_d=$1
	_out=$2
	shift 2
	(echo 0 >"$_d/cgroup.procs" && exec "$@") >"$_out" 2>&1 &
	SPAWNED=$!
}

cg_destroy() {
	[ -d "$1" ] || return 0
	echo 1 >"$1/cgroup.kill" 2>/dev/null
	wait_until 50 grep -q '^populated 0' "$1/cgroup.events"
	rmdir "$1"
}

ev() {
	sed -n "s/^$2 //p" "$1/memory.events"
}

wait_until() {
	_t=$1
	shift
	while ! "$@"; do
		[ "$_t" -gt 0 ] || return 1
		_t=$((_t - 1))
		usleep 100000
	done
}

wait_line() {
	wait_until "$1" grep -qE "$3" "$2"
}

_alive() {
	kill -0 "$1" 2>/dev/null
}

# A zombie still answers kill -0; its parent (this shell) must wait for
# it. So: wait for the state to leave R/S/D, then collect the status.
_ended() {
	_st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -z "$_st" ] || [ "$_st" = Z ]
}

wait_pid() {
	if wait_until "$1" _ended "$2"; then
		wait "$2"
		WAITED=$?
	else
		kill -9 "$2" 2>/dev/null
		wait "$2"
		WAITED=overran
	fi
}

now_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

log_ms() {
	echo "$1" | awk '{
		split(substr($1, 12, 12), t, /[:.]/)
		printf "%d\n", ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4] }'
}
