#!/bin/bash
# make bench (BENCH_ONLY=hints): the runtime hints against the gc signals,
# on the Go example (examples/go, gcapp: a 170 MiB cache, a fifth of it
# garbage each second) in a 256 MiB v1 cgroup with the OOM killer
# disabled, the field scenario. Four ways, one after the other in the
# same run, each in a fresh cgroup for BENCH_HINTS_SECS (default 60):
#
#   bare     gcapp alone
#   hints    gcapp alone with the variables of `oomguard hints --shell`
#            (GOMEMLIMIT), no oomguard
#   signals  oomguard -- gcapp with [runtime] hints = none
#   both     oomguard -- gcapp with the defaults (hints = auto)
#
# oomguard runs with its defaults (gc at 75%, every second while above).
# For each way: freezes (oomwait, outside the cgroup, notes each v1 OOM
# notification; those less than a second apart are one freeze), the time
# to the first, the seconds spent frozen (under_oom sampled every 250 ms;
# a bare freeze lasts until the run ends), the cgroup's peak
# (memory.max_usage_in_bytes, which holds oomguard and its reserve too),
# oomguard's gc requests per minute, the app's own GC cycles
# (GODEBUG=gctrace=1; forced ones are the requests served), its CPU time
# (utime + stime of every gcapp process the run had), oomguard's restarts
# of it, and the GOMEMLIMIT the app got (from /proc/PID/environ).
# BENCH_HINTS_TARGET (default 170M) is gcapp's cache; BENCH_HINTS_WAYS
# picks the ways.
#
# Sourced by bench.sh (which sets OOMGUARD, WORKLOAD_DIR, tmp, MiB and the
# helpers), or run alone with OOMGUARD and WORKLOAD_DIR set.
set -uo pipefail
hints_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z ${MiB:-} ]]; then
	source "$hints_here/../lib/cgroup.sh"
	source "$hints_here/../lib/testlib.sh"
	tmp=$(mktemp -d)
	trap 'cg_cleanup_all; rm -rf "$tmp"' EXIT
	MiB=$((1 << 20))
	: "${OOMGUARD:?}" "${WORKLOAD_DIR:?}"
fi
hints_secs=${BENCH_HINTS_SECS:-60}
# The latency runs' tuning is not for this: oomguard's defaults here.
hints_env=(env -u OOMGUARD_WATCH_METRIC -u OOMGUARD_GC_COOLDOWN -u OOMGUARD_GC_REARM_BELOW
	-u OOMGUARD_GC_REQUIRE_HANDLER -u GOMEMLIMIT -u GOGC OOMGUARD_LOG_LEVEL=info GODEBUG=gctrace=1
	GCAPP_TARGET="${BENCH_HINTS_TARGET:-170M}")

# hints_build: gcapp from examples/go into $tmp/gcapp, as its Dockerfile
# builds it. Return non-zero without a Go compiler.
hints_build() {
	command -v go >/dev/null || { echo "no go compiler (make deps installs golang-go)" >&2; return 1; }
	(cd "$hints_here/../../examples/go" && CGO_ENABLED=0 GOCACHE="$tmp/gocache" GOFLAGS=-mod=mod \
		go build -trimpath -o "$tmp/gcapp" .) >&2
}

# hints_sample DIR: the CPU ticks of each gcapp process in DIR to
# $tmp/cpu.PID (the latest reading per process), its GOMEMLIMIT to
# $tmp/memlimit, and one line to $tmp/frozen when DIR is frozen.
hints_sample() {
	local pid stat
	[[ $(cg_under_oom "$1" 2>/dev/null) == 1 ]] && echo >>"$tmp/frozen"
	for pid in $(cat "$1/cgroup.procs" 2>/dev/null); do
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == gcapp ]] || continue
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		stat=${stat##*) }
		awk '{ print $12 + $13 }' <<<"$stat" >"$tmp/cpu.$pid"
		[[ -s $tmp/memlimit ]] ||
			tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^GOMEMLIMIT=//p' >"$tmp/memlimit"
	done
}

# hints_run WAY: one run; prints its row.
hints_run() {
	local way=$1 dir wpid apid freezes first frozen peak req cycles forced cpu starts t0 tick
	dir=$(cg_create "og-bench-hints-$way-$$" $((256 * MiB)) oom_disable) || exit 1
	rm -f "$tmp"/cpu.* && : >"$tmp/app.err" && : >"$tmp/frozen" && : >"$tmp/memlimit"
	"$WORKLOAD_DIR/oomwait" "$dir" >"$tmp/oomwait" 2>&1 &
	wpid=$!
	until grep -q '^ready' "$tmp/oomwait"; do
		kill -0 "$wpid" 2>/dev/null || { cat "$tmp/oomwait" >&2; exit 1; }
		sleep 0.01
	done
	read -r _ t0 _ <"$tmp/oomwait"
	case $way in
	bare)
		cg_spawn "$dir" "${hints_env[@]}" "$tmp/gcapp" >/dev/null 2>"$tmp/app.err" ;;
	hints)
		cg_spawn "$dir" "${hints_env[@]}" sh -c 'eval "$("$0" hints --cgroup "$1" --shell)" &&
			exec "$2"' "$OOMGUARD" "$dir" "$tmp/gcapp" >/dev/null 2>"$tmp/app.err" ;;
	signals)
		cg_spawn "$dir" "${hints_env[@]}" OOMGUARD_RUNTIME_HINTS=none "$OOMGUARD" -- "$tmp/gcapp" \
			>/dev/null 2>"$tmp/app.err" ;;
	both)
		cg_spawn "$dir" "${hints_env[@]}" OOMGUARD_RUNTIME_HINTS=auto "$OOMGUARD" -- "$tmp/gcapp" \
			>/dev/null 2>"$tmp/app.err" ;;
	esac
	apid=$CG_PID
	for ((tick = 0; tick < hints_secs * 4; tick++)); do
		hints_sample "$dir"
		sleep 0.25
	done
	peak=$(cat "$dir/memory.max_usage_in_bytes")
	kill -KILL "$apid" 2>/dev/null
	cg_destroy "$dir"
	wait "$apid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	freezes=$(awk '$1 == "oom" { if (!n || $2 - last > 1e6) n++; last = $2 } END { print n + 0 }' "$tmp/oomwait")
	frozen=$(awk 'END { printf "%.1f", NR / 4 }' "$tmp/frozen")
	first=$(awk -v t0="$t0" '$1 == "oom" { printf "%.1fs", ($2 - t0) / 1e6; exit }' "$tmp/oomwait")
	# oomguard's log and the app's stderr (gctrace) share the file.
	req=$(grep -c ' gc: .*: sent$' "$tmp/app.err")
	starts=$(grep -c ' info  started ' "$tmp/app.err")
	cycles=$(grep -c '^gc [0-9]* @' "$tmp/app.err")
	forced=$(grep '^gc [0-9]* @' "$tmp/app.err" | grep -c '(forced)')
	cpu=$(cat "$tmp"/cpu.* 2>/dev/null | awk -v hz="$(getconf CLK_TCK)" '{ s += $1 } END { printf "%.1f", s / hz }')
	[[ $way == bare || $way == hints ]] && req=- starts=-
	printf '%-8s %7s %7s %7s %9.1f %10s %10s %7s %6s %8s %10s\n' "$way" "$freezes" "${first:--}" "$frozen" \
		"$(awk -v p="$peak" 'BEGIN { print p / 1048576 }')" \
		"$([[ $req == - ]] && echo - || awk -v r="$req" -v s="$hints_secs" 'BEGIN { printf "%.1f", r * 60 / s }')" \
		"$cycles" "$forced" "$cpu" "$([[ $starts == - ]] && echo - || echo $((starts > 0 ? starts - 1 : 0)))" \
		"$(cat "$tmp/memlimit" | grep . || echo -)"
	return 0
}

hints_bench() {
	local way
	echo
	echo "runtime hints and gc signals: examples/go (gcapp, ${BENCH_HINTS_TARGET:-170M} cache) in 256 MiB,"
	echo "OOM killer off, oomguard's defaults, ${hints_secs}s each"
	hints_build || { echo "skipped: the Go example cannot be built"; return 0; }
	printf '%-8s %7s %7s %7s %9s %10s %10s %7s %6s %8s %10s\n' way freezes first "frozen" "peak MiB" \
		"gc req/min" "GC cycles" forced "CPU s" restarts GOMEMLIMIT
	# bash reports each killed job; the cgroup's end is meant.
	for way in ${BENCH_HINTS_WAYS:-bare hints signals both}; do
		hints_run "$way" 2> >(grep -v ' Killed ' >&2)
	done
}

# Run alone: the section only.
[[ ${BASH_SOURCE[0]} == "$0" ]] && hints_bench
