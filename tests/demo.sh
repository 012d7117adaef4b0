#!/bin/bash
# make demo: the field scenario on this host, with real cgroups.
#
# gcsim behaves like a garbage-collected service: it keeps a live set near
# 60% of its limit, churns allocations, and lets garbage pile up to twice
# the live set before collecting on its own (as Go does with GOGC=100), or
# at once on SIGUSR1. It runs in a child memory cgroup with a 256 MiB limit
# and the OOM killer disabled (cgroup v1), as
# `docker run --memory 256m --oom-kill-disable` would.
#   Run 1, alone: it reaches the limit and the cgroup freezes.
#   Run 2, under oomguard as its entrypoint: it runs DEMO_SECS (default 30)
#   seconds and never freezes.
# Besides the table, a picture of memory over time in both runs, with the
# limit, the levels and every gc request, is drawn with gnuplot into
# DEMO_PNG (default docs/demo.png, the one README.md shows).
# Everything is cleaned up afterwards.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/cgroup.sh"
tmp=$(mktemp -d)
trap 'cg_cleanup_all; rm -rf "$tmp"' EXIT
: "${OOMGUARD:?}" "${WORKLOAD_DIR:?}"
secs=${DEMO_SECS:-30}
png=${DEMO_PNG:-$here/../docs/demo.png}
limit=$((256 << 20))
rate=64

self=$(cg_self_memdir) || exit 1
if [[ $(cg_version "$self") != 1 ]]; then
	echo "make demo needs a cgroup v1 memory controller (the OOM killer cannot be disabled on v2);" >&2
	echo "the v2 behaviour is shown by the VM tests" >&2
	exit 1
fi

# sample DIR: print "SECONDS_OF_DAY USAGE_BYTES" every 20 ms while DIR's
# usage can be read (run in the background).
sample() {
	local u t
	trap - EXIT
	while read -r u <"$1/memory.usage_in_bytes"; do
		t=${EPOCHREALTIME/[.,]/}
		echo "$(((t / 1000) % 86400000)) $u"
		sleep 0.02
	done 2>/dev/null
}

# run NAME LOG CMD...: run CMD in a fresh cgroup until it ends or freezes,
# its stderr to LOG, its usage sampled to $tmp/NAME.mem; print
# "FROZEN(yes|no) MS_TO_FREEZE PEAK_BYTES".
run() {
	local name=$1 log=$2 dir pid start frozen=no ms=- spid
	shift 2
	dir=$(cg_create "oomguard-demo-$name-$$" $limit oom_disable) || exit 1
	sample "$dir" >"$tmp/$name.mem" &
	spid=$!
	cg_spawn "$dir" "$@" >/dev/null 2>"$log"
	pid=$CG_PID
	start=${EPOCHREALTIME/[.,]/}
	while kill -0 "$pid" 2>/dev/null; do
		if [[ $(cg_under_oom "$dir") == 1 ]]; then
			frozen=yes
			ms=$(((${EPOCHREALTIME/[.,]/} - start) / 1000))
			break
		fi
		if (((${EPOCHREALTIME/[.,]/} - start) / 1000000 >= secs + 10)); then
			break
		fi
		sleep 0.02
	done
	local peak
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	peak=$(<"$dir/memory.max_usage_in_bytes")
	# A frozen task cannot be waited for: destroy (kill) first.
	cg_destroy "$dir"
	wait "$pid" 2>/dev/null
	echo "$frozen $ms $peak"
}

# plot: both runs' usage over time, the limit, the levels and the gc
# requests (every one, from the debug log) into $png.
plot() {
	local t0
	command -v gnuplot >/dev/null || { echo "no gnuplot: no picture (make deps installs it)"; return 1; }
	# Milliseconds since midnight (UTC, as the log's times) of each gc request.
	grep 'gc: .*SIGUSR1 to pid [0-9]*: sent' "$tmp/og.log" | awk '{
		split(substr($1, 12, 12), t, /[:.]/)
		print ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4] }' >"$tmp/gc.ms"
	for r in alone guarded; do
		read -r t0 _ <"$tmp/$r.mem"
		awk -v t0="$t0" '{ print ($1 - t0) / 1000, $2 / 1048576 }' "$tmp/$r.mem" >"$tmp/$r.dat"
		[[ $r == guarded ]] && awk -v t0="$t0" '{ print ($1 - t0) / 1000, 192 }' "$tmp/gc.ms" >"$tmp/gc.dat"
	done
	gnuplot <<-EOF
		set terminal pngcairo size 1000,720 font ",10"
		set output "$png"
		set multiplot layout 2,1 title "gcsim (live 60%, garbage up to 2x live, $rate MiB/s) in a 256 MiB cgroup, OOM killer off"
		set ylabel "usage (MiB)"
		set yrange [0:272]
		set key bottom right
		set grid
		set title "alone: frozen at its limit after $ms1 ms"
		plot "$tmp/alone.dat" with lines lw 2 lc rgb "#c0392b" title "usage", \
			256 lc rgb "black" dt 1 title "limit 256 MiB", 248.32 lc rgb "#8e44ad" dt 2 title "kill 97%", \
			230.4 lc rgb "#d35400" dt 2 title "restart 90%", 192 lc rgb "#27ae60" dt 2 title "gc 75%"
		set title "under oomguard (defaults, gc at 75%): $gcs gc requests in ${secs}s, peak $((peak2 >> 20)) MiB, no freeze"
		set xlabel "seconds"
		plot "$tmp/guarded.dat" with lines lw 1 lc rgb "#2980b9" title "usage", \
			"$tmp/gc.dat" with points pt 7 ps 0.5 lc rgb "#27ae60" title "gc request (SIGUSR1)", \
			256 lc rgb "black" dt 1 title "limit 256 MiB", 248.32 lc rgb "#8e44ad" dt 2 title "kill 97%", \
			230.4 lc rgb "#d35400" dt 2 title "restart 90%", 192 lc rgb "#27ae60" dt 2 title "gc 75%"
		unset multiplot
	EOF
}

echo "oomguard demo: gcsim (live 60%, garbage up to 2x live, ${rate} MiB/s churn)"
echo "in a memory cgroup with a 256 MiB limit and the OOM killer disabled"
echo
echo "run 1: gcsim alone"
read -r f1 ms1 peak1 < <(run alone /dev/null "$WORKLOAD_DIR/gcsim" --rate $rate --duration "$secs")
echo "run 2: gcsim under oomguard (gc at 75%, requests paced by their effect)"
read -r f2 ms2 peak2 < <(run guarded "$tmp/og.log" "$OOMGUARD" --gc-at 75% --log-level debug -- "$WORKLOAD_DIR/gcsim" \
	--rate $rate --duration "$secs")
gcs=$(grep -c 'gc: .*: sent' "$tmp/og.log")
echo
printf '%-22s %-8s %-16s %-18s %s\n' "run" "frozen" "time to freeze" "peak / limit" "gc requests"
printf '%-22s %-8s %-16s %-18s %s\n' "gcsim alone" "$f1" "${ms1} ms" "$((peak1 >> 20)) / 256 MiB" "-"
printf '%-22s %-8s %-16s %-18s %s\n' "gcsim under oomguard" "$f2" \
	"$([[ $f2 == yes ]] && echo "${ms2} ms" || echo "none in ${secs}s")" "$((peak2 >> 20)) / 256 MiB" "$gcs"
echo
echo "oomguard's log (first lines at info):"
grep -v ' debug ' "$tmp/og.log" | head -8 | sed 's/^/  /'
plot && echo && echo "memory over time: $png"
[[ $f1 == yes && $f2 == no ]]
