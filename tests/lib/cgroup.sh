# cgroup.sh: memory cgroup helpers for oomguard's integration tests (bash).
#
# Source it; sourcing defines functions and nothing else. Test cgroups are
# always children of the caller's own memory cgroup, found from
# /proc/self/cgroup and /proc/self/mountinfo, never at a fixed path.
#
#   cg_self_memdir                  print the caller's memory cgroup dir
#   cg_version DIR                  print 1 or 2 (from the files in DIR)
#   cg_create NAME LIMIT [oom_disable]
#                                   make SELF/NAME with that limit, print it
#   cg_exec DIR cmd...              run cmd inside DIR, wait, return its status
#   cg_spawn DIR cmd...             start cmd inside DIR in the background;
#                                   sets CG_PID to its pid (usable with kill,
#                                   wait) and returns once cmd is exec'd
#   cg_under_oom DIR                v1: print 0 or 1
#   cg_usage DIR                    print the usage in bytes
#   cg_wait_frozen DIR TIMEOUT_SEC  wait for under_oom 1; sets CG_WAITED_MSEC
#   cg_destroy DIR                  kill everything in DIR, then rmdir it
#   cg_cleanup_all                  cg_destroy every cgroup cg_create made;
#                                   meant for `trap cg_cleanup_all EXIT`
#   cg_run DIR SECS cmd...          run cmd inside DIR under t_timeout SECS
#                                   (testlib.sh); return its status
#   cg_test_setup [VAR]             a test script's start: $tmp set to a new
#                                   directory, VAR (a pid's variable) to ''.
#                                   At exit: SIGKILL to the pid in $VAR if
#                                   any, cg_cleanup_all, rm -rf $tmp
#   cg_need_v1 NAME WHY             set $self to the caller's memory cgroup;
#                                   unless it is a writable v1 one, t_skip
#                                   NAME WHY, t_summary and exit 0
#
# Functions return 0 on success and non-zero after a message on stderr.
# cg_create registers its cgroups in a file named after the main shell's
# PID ($$), so `dir=$(cg_create ...)` (a subshell) still registers them.
#
# ${CG_PROC:-/proc} is where cg_self_memdir reads self/cgroup and
# self/mountinfo, so tests can point it at fixture files.
#
# A bash pitfall met here: a signal that reaches a `( ... ) &` subshell
# before it execs runs the parent's EXIT trap in the child (bash 5.2). With
# `trap cg_cleanup_all EXIT` that destroys every test cgroup, so cg_spawn
# returns only after the exec; do the same for any other background job you
# signal early.
#
# cg_run, cg_need_v1 and cg_test_setup's cleanup use testlib.sh, which the
# caller sources too.
#
# Needs root. On cgroup v2 the caller's cgroup must be the root or already
# delegate the memory controller to its children (a v2 cgroup that holds
# processes cannot enable controllers for children), and there is no
# oom_kill_disable: cg_create fails when asked for it.

# The registry of cgroups cg_create made; ${CG_REGISTRY} overrides.
_cg_registry() {
	printf '%s\n' "${CG_REGISTRY:-${TMPDIR:-/tmp}/oomguard-cg.$$}"
}

_cg_err() {
	printf 'cgroup.sh: %s\n' "$*" >&2
}

# _cg_unescape S: undo mountinfo's octal escapes (\040 is a space).
_cg_unescape() {
	printf '%b' "$1"
}

cg_self_memdir() {
	local line id ctrls path v1_path='' v2_path='' want fields root mnt rest fstype opts rel

	while IFS= read -r line; do
		id=${line%%:*}
		rest=${line#*:}
		ctrls=${rest%%:*}
		path=${rest#*:}
		if [[ $id == 0 && -z $ctrls ]]; then
			v2_path=$path
		elif [[ ,$ctrls, == *,memory,* ]]; then
			v1_path=$path
		fi
	done <"${CG_PROC:-/proc}/self/cgroup"

	if [[ -n $v1_path ]]; then
		want=cgroup
		path=$v1_path
	elif [[ -n $v2_path ]]; then
		want=cgroup2
		path=$v2_path
	else
		_cg_err "no memory cgroup in ${CG_PROC:-/proc}/self/cgroup"
		return 1
	fi

	while IFS= read -r line; do
		rest=${line#* - }
		read -r fstype _ opts <<<"$rest"
		[[ $fstype == "$want" ]] || continue
		[[ $want == cgroup2 || ,$opts, == *,memory,* ]] || continue
		read -r -a fields <<<"${line%% - *}"
		root=$(_cg_unescape "${fields[3]}")
		mnt=$(_cg_unescape "${fields[4]}")
		# The cgroup path is relative to the root of the mount.
		if [[ $root == / ]]; then
			rel=$path
		elif [[ $path == "$root" || $path == "$root"/* ]]; then
			rel=${path#"$root"}
		else
			continue
		fi
		[[ $rel == / ]] && rel=
		printf '%s%s\n' "$mnt" "$rel"
		return 0
	done <"${CG_PROC:-/proc}/self/mountinfo"

	_cg_err "no $want mount holds the memory cgroup $path"
	return 1
}

cg_version() {
	if [[ -e $1/memory.limit_in_bytes ]]; then
		echo 1
	elif [[ -e $1/memory.max || -e $1/cgroup.controllers ]]; then
		echo 2
	else
		_cg_err "$1 is not a memory cgroup directory"
		return 1
	fi
}

# _cg_write FILE VALUE: write VALUE to a cgroup file, with a message on
# failure (the kernel's errno, e.g. EBUSY or EINVAL, is in bash's message).
_cg_write() {
	local err
	if ! err=$({ printf '%s\n' "$2" >"$1"; } 2>&1); then
		_cg_err "cannot write '$2' to $1: ${err##*: }"
		return 1
	fi
}

_cg_read_key() { # FILE KEY: print the value of "KEY value" lines
	local k v
	while read -r k v; do
		if [[ $k == "$2" ]]; then
			printf '%s\n' "$v"
			return 0
		fi
	done <"$1"
	return 1
}

cg_create() {
	local name=$1 limit=$2 oom_disable=${3:-} self dir

	if [[ -z $name || -z $limit || $name == */.* || $name == .* ]]; then
		_cg_err "usage: cg_create NAME LIMIT_BYTES [oom_disable]"
		return 2
	fi
	self=$(cg_self_memdir) || return 1
	dir=$self/$name
	if [[ -e $dir ]]; then
		_cg_err "$dir already exists (a leftover? cg_destroy it first)"
		return 1
	fi

	if [[ $(cg_version "$self") == 2 ]]; then
		if [[ -n $oom_disable ]]; then
			_cg_err "cgroup v2 cannot disable the OOM killer"
			return 1
		fi
		if [[ " $(<"$self/cgroup.subtree_control") " != *" memory "* ]]; then
			_cg_write "$self/cgroup.subtree_control" +memory || return 1
		fi
		mkdir "$dir" || return 1
		printf '%s\n' "$dir" >>"$(_cg_registry)"
		_cg_write "$dir/memory.max" "$limit" || return 1
		_cg_write "$dir/memory.swap.max" 0 2>/dev/null
	else
		mkdir "$dir" || return 1
		printf '%s\n' "$dir" >>"$(_cg_registry)"
		_cg_write "$dir/memory.limit_in_bytes" "$limit" || return 1
		# With swap on, only memsw makes the limit a hard wall.
		if [[ -e $dir/memory.memsw.limit_in_bytes ]]; then
			_cg_write "$dir/memory.memsw.limit_in_bytes" "$limit" || return 1
		fi
		if [[ -n $oom_disable && $oom_disable != 0 ]]; then
			_cg_write "$dir/memory.oom_control" 1 || return 1
		fi
	fi
	printf '%s\n' "$dir"
}

cg_exec() {
	local dir=$1
	shift
	(
		printf '%s\n' "$BASHPID" >"$dir/cgroup.procs" || exit 125
		exec "$@"
	)
}

cg_spawn() {
	local dir=$1 i
	shift
	(
		trap - EXIT
		printf '%s\n' "$BASHPID" >"$dir/cgroup.procs" || exit 125
		exec "$@"
	) &
	# shellcheck disable=SC2034 # read by the caller
	CG_PID=$!
	# Until it execs, the child is a copy of this shell, with its signal
	# handlers and EXIT trap: a signal sent to CG_PID then would run our
	# EXIT trap (cg_cleanup_all!) in the child. So return only once the
	# child's command line differs from ours, i.e. after the exec (or its
	# failure), giving up after 5 s.
	for ((i = 0; i < 500; i++)); do
		cmp -s "/proc/$CG_PID/cmdline" "/proc/$BASHPID/cmdline" 2>/dev/null || return 0
		sleep 0.01
	done
	_cg_err "cg_spawn: pid $CG_PID has not exec'd $1 after 5 s"
	return 1
}

cg_under_oom() {
	if [[ ! -e $1/memory.oom_control ]]; then
		_cg_err "$1 has no memory.oom_control (not cgroup v1)"
		return 2
	fi
	_cg_read_key "$1/memory.oom_control" under_oom
}

cg_usage() {
	local v
	if [[ -e $1/memory.usage_in_bytes ]]; then
		read -r v <"$1/memory.usage_in_bytes" || return 1
	else
		read -r v <"$1/memory.current" || return 1
	fi
	printf '%s\n' "$v"
}

# _cg_now_usec: microseconds from bash's clock, without a fork.
_cg_now_usec() {
	local t=$EPOCHREALTIME
	printf '%s\n' "${t/[.,]/}"
}

cg_wait_frozen() {
	local dir=$1 timeout_sec=$2 start now deadline u

	[[ -e $dir/memory.oom_control ]] || {
		_cg_err "$dir: no freeze on cgroup v2 (no memory.oom_control)"
		return 2
	}
	start=$(_cg_now_usec)
	deadline=$((start + timeout_sec * 1000000))
	while :; do
		u=$(cg_under_oom "$dir") || return 1
		now=$(_cg_now_usec)
		if [[ $u == 1 ]]; then
			# shellcheck disable=SC2034 # read by the caller
			CG_WAITED_MSEC=$(((now - start) / 1000))
			return 0
		fi
		if ((now >= deadline)); then
			_cg_err "$dir did not freeze within ${timeout_sec}s"
			return 1
		fi
		sleep 0.02
	done
}

# _cg_descendants DIR: print DIR's child cgroups, deepest first.
_cg_descendants() {
	local d
	for d in "$1"/*/; do
		[[ -d $d ]] || continue
		d=${d%/}
		_cg_descendants "$d"
		printf '%s\n' "$d"
	done
}

# _cg_kill_all DIR: SIGKILL every process in DIR. Return 0 if DIR held no
# process, 1 if it did (then call again until it returns 0).
_cg_kill_all() {
	local pid found=0
	while read -r pid; do
		[[ -n $pid ]] || continue
		kill -KILL "$pid" 2>/dev/null
		found=1
	done <"$1/cgroup.procs"
	return $found
}

cg_destroy() {
	local dir=${1%/} self reg tmp

	self=$(cg_self_memdir) || return 1
	# Never act on anything but a strict descendant of our own cgroup:
	# killing our own cgroup would kill the test itself.
	if [[ -z $dir || $dir != "$self"/* || $dir == *"/.."* ]]; then
		_cg_err "refusing to destroy '$dir': not below $self"
		return 2
	fi
	# bash reports each background job that dies of SIGKILL ("Killed")
	# on stderr when it reaps it, which happens during the wait below; only
	# our own messages (fd 3) are kept.
	_cg_destroy_dir "$dir" "${2:-10}" 3>&2 2>/dev/null || return 1
	reg=$(_cg_registry)
	if [[ -f $reg ]]; then
		# Forget DIR and the cgroups nested in it.
		tmp=$(awk -v d="$dir" '$0 != d && index($0, d "/") != 1' "$reg")
		if [[ -n $tmp ]]; then
			printf '%s\n' "$tmp" >"$reg"
		else
			rm -f "$reg"
		fi
	fi
	return 0
}

# _cg_destroy_dir DIR TIMEOUT_SEC: the work of cg_destroy; messages on fd 3.
_cg_destroy_dir() {
	local dir=$1 timeout_sec=$2 d deadline empty all=()

	[[ -d $dir ]] || return 0
	mapfile -t all < <(_cg_descendants "$dir")
	all+=("$dir")
	# SIGKILL first: it ends a task parked in the v1 OOM wait at once,
	# while lifting the limit first would let it run its handlers (a
	# pending SIGTERM) and exit "gracefully". Then lift the limits so that
	# nothing left can stay parked, and keep killing until DIR is empty.
	for d in "${all[@]}"; do
		_cg_kill_all "$d"
	done
	for d in "${all[@]}"; do
		if [[ -e $d/memory.oom_control ]]; then
			echo 0 >"$d/memory.oom_control"
			echo -1 >"$d/memory.memsw.limit_in_bytes"
			echo -1 >"$d/memory.limit_in_bytes"
		else
			echo max >"$d/memory.max"
		fi
	done
	deadline=$(($(_cg_now_usec) + timeout_sec * 1000000))
	while :; do
		empty=1
		for d in "${all[@]}"; do
			_cg_kill_all "$d" || empty=0
		done
		((empty)) && break
		if (($(_cg_now_usec) >= deadline)); then
			_cg_err "processes left in $dir after ${timeout_sec}s:" \
				"$(tr '\n' ' ' <"$dir/cgroup.procs")" 2>&3
			return 1
		fi
		sleep 0.05
	done
	# rmdir can fail for a moment after the last task left.
	while :; do
		for d in "${all[@]}"; do
			rmdir "$d"
		done
		[[ -d $dir ]] || return 0
		if (($(_cg_now_usec) >= deadline)); then
			_cg_err "cannot rmdir $dir after ${timeout_sec}s" 2>&3
			return 1
		fi
		sleep 0.05
	done
}

cg_cleanup_all() {
	local reg dirs=() i rc=0
	reg=$(_cg_registry)
	[[ -f $reg ]] || return 0
	mapfile -t dirs <"$reg"
	for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
		[[ -n ${dirs[i]} ]] || continue
		cg_destroy "${dirs[i]}" || rc=1
	done
	rm -f "$reg"
	return $rc
}

cg_run() {
	local dir=$1 secs=$2
	shift 2
	t_timeout "$secs" bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$dir" "$@"
}

# _cg_test_exit: the EXIT trap cg_test_setup sets.
_cg_test_exit() {
	local pid=
	[[ -n $_cg_test_pidvar ]] && pid=${!_cg_test_pidvar}
	[[ -n $pid ]] && { kill -KILL "$pid" && wait "$pid"; } 2>/dev/null
	cg_cleanup_all
	rm -rf "$tmp"
}

cg_test_setup() {
	_cg_test_pidvar=${1:-}
	[[ -n $_cg_test_pidvar ]] && printf -v "$_cg_test_pidvar" ''
	tmp=$(mktemp -d)
	trap _cg_test_exit EXIT
}

cg_need_v1() {
	self=$(cg_self_memdir 2>/dev/null)
	[[ -n $self && -w $self && $(cg_version "$self") == 1 ]] && return 0
	t_skip "$1" "$2"
	t_summary
	exit
}
