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
# Everything is cleaned up afterwards.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/cgroup.sh"
tmp=$(mktemp -d)
trap 'cg_cleanup_all; rm -rf "$tmp"' EXIT
: "${OOMGUARD:?}" "${WORKLOAD_DIR:?}"
secs=${DEMO_SECS:-30}
limit=$((256 << 20))
rate=64

self=$(cg_self_memdir) || exit 1
if [[ $(cg_version "$self") != 1 ]]; then
	echo "make demo needs a cgroup v1 memory controller (the OOM killer cannot be disabled on v2);" >&2
	echo "the v2 behaviour is shown by the VM tests" >&2
	exit 1
fi

# run NAME LOG CMD...: run CMD in a fresh cgroup until it ends or freezes,
# its stderr to LOG; print "FROZEN(yes|no) MS_TO_FREEZE PEAK_BYTES".
run() {
	local name=$1 log=$2 dir pid start frozen=no ms=-
	shift 2
	dir=$(cg_create "oomguard-demo-$name-$$" $limit oom_disable) || exit 1
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
	peak=$(<"$dir/memory.max_usage_in_bytes")
	# A frozen task cannot be waited for: destroy (kill) first.
	cg_destroy "$dir"
	wait "$pid" 2>/dev/null
	echo "$frozen $ms $peak"
}

echo "oomguard demo: gcsim (live 60%, garbage up to 2x live, ${rate} MiB/s churn)"
echo "in a memory cgroup with a 256 MiB limit and the OOM killer disabled"
echo
echo "run 1: gcsim alone"
read -r f1 ms1 peak1 < <(run alone /dev/null "$WORKLOAD_DIR/gcsim" --rate $rate --duration "$secs")
echo "run 2: gcsim under oomguard (gc at 75%, every second while above)"
read -r f2 ms2 peak2 < <(run guarded "$tmp/og.log" "$OOMGUARD" --gc-at 75% -- "$WORKLOAD_DIR/gcsim" \
	--rate $rate --duration "$secs")
gcs=$(grep -c 'gc: .*: sent' "$tmp/og.log")
echo
printf '%-22s %-8s %-16s %-18s %s\n' "run" "frozen" "time to freeze" "peak / limit" "gc requests"
printf '%-22s %-8s %-16s %-18s %s\n' "gcsim alone" "$f1" "${ms1} ms" "$((peak1 >> 20)) / 256 MiB" "-"
printf '%-22s %-8s %-16s %-18s %s\n' "gcsim under oomguard" "$f2" \
	"$([[ $f2 == yes ]] && echo "${ms2} ms" || echo "none in ${secs}s")" "$((peak2 >> 20)) / 256 MiB" "$gcs"
echo
echo "oomguard's log (first lines):"
head -6 "$tmp/og.log" | sed 's/^/  /'
[[ $f1 == yes && $f2 == no ]]
