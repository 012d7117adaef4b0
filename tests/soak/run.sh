#!/bin/bash
# tests/soak/run.sh: oomguard guarding a churning workload for SOAK_SECS
# (3600 by default), for `make soak`. Figures, not assertions, save the
# closing verdict on what must hold over hours.
#
# The app is gcsim in a 256M v1 cgroup with the OOM killer disabled: a
# live set of 20%, garbage at SOAK_RATE MiB/s (32 by default; gcsim
# allocates nothing below 20) that it
# never collects itself before the limit (a heap goal of 5 times the live
# set), collected at each gc request; it exits after SOAK_APP_SECS (150)
# and oomguard ([supervise] restart = always) starts it again. A missed gc
# request freezes the cgroup within seconds at this rate: under_oom is
# read every second, and a rescue or a SIGKILL would show in the log.
#
# Every SOAK_STEP seconds (60) one row goes to OUT/soak.tsv: the minute,
# oomguard's RSS (KiB), its open descriptors, its CPU time (user + system,
# seconds), the app's restarts, the gc requests, rescues and SIGKILLs so
# far. gnuplot draws OUT/soak.png. The closing verdict: descriptors flat
# after the first minute, RSS no higher than it, the app restarted each
# time, no gc request missed (no freeze, no rescue, no SIGKILL).
#
# Needs root and a v1 memory cgroup; OOMGUARD and WORKLOAD_DIR as for the
# integration tests; OUT (build/soak by default).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/lib/cgroup.sh"
: "${OOMGUARD:?set OOMGUARD to the binary under test}"
: "${WORKLOAD_DIR:?set WORKLOAD_DIR to the built workloads}"
secs=${SOAK_SECS:-3600} step=${SOAK_STEP:-60} rate=${SOAK_RATE:-32}
app_secs=${SOAK_APP_SECS:-150}
out=${OUT:-$root/build/soak}
mkdir -p "$out"
log=$out/oomguard.log tsv=$out/soak.tsv

self=$(cg_self_memdir 2>/dev/null)
if [[ -z $self || ! -w $self || $(cg_version "$self") != 1 ]]; then
	echo "soak: needs root and a v1 memory cgroup" >&2
	exit 77
fi
og=
cleanup() {
	[[ -n $og ]] && kill -TERM "$og" 2>/dev/null && wait "$og" 2>/dev/null
	cg_cleanup_all
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dir=$(cg_create "og-soak-$$" 256M oom_disable) || exit 1
# Debug: every gc request has its line (repeats are logged at debug).
cg_spawn "$dir" env OOMGUARD_SUPERVISE_RESTART=always OOMGUARD_SUPERVISE_RESTART_DELAY=1s \
	OOMGUARD_GC_REARM_BELOW=50% "$OOMGUARD" --log-level debug --gc-at 60% --restart-at 85% --grace 10s \
	--kill-at none -- "$WORKLOAD_DIR/gcsim" --live 20 --garbage-ratio 5 --rate "$rate" \
	--duration "$app_secs" >"$out/app.out" 2>"$log"
og=$CG_PID

# row MINUTE: one line of figures about oomguard (pid $og).
row() {
	local rss fds ticks cpu restarts gcs rescues kills
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$og/status")
	fds=$(ls "/proc/$og/fd" | wc -l)
	# utime and stime are fields 14 and 15 of stat, after the (comm).
	ticks=$(sed 's/.*) //' "/proc/$og/stat" | awk '{ print $12 + $13 }')
	cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')
	restarts=$(grep -c 'restarting the app' "$log")
	gcs=$(grep -c 'gc: .*SIGUSR1 to pid [0-9]*: sent' "$log")
	rescues=$(grep -c 'rescue: ' "$log")
	kills=$(grep -c 'SIGKILL to pid' "$log")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$rss" "$fds" "$cpu" "$restarts" "$gcs" \
		"$rescues" "$kills"
}

printf 'minute\trss_kib\tfds\tcpu_s\trestarts\tgc_requests\trescues\tsigkills\n' >"$tsv"
# The first row comes after a minute: start-up (the reserve, the
# locked memory) is not growth.
frozen=0 start=$SECONDS next=$step
while ((SECONDS - start < secs)); do
	if ! kill -0 "$og" 2>/dev/null; then
		echo "soak: oomguard ended after $((SECONDS - start)) s" >&2
		tail -5 "$log" >&2
		exit 1
	fi
	if ((SECONDS - start >= next)); then
		row "$(awk -v s="$next" 'BEGIN { printf "%g", s / 60 }')" >>"$tsv"
		tail -1 "$tsv"
		next=$((next + step))
	fi
	[[ $(cg_under_oom "$dir") == 1 ]] && frozen=$((frozen + 1))
	sleep 1
done

gnuplot -e "tsv='$tsv'; png='$out/soak.png'" "$here/soak.gp"

# The verdict, against the first row.
read -r rss0 rss_max fds0 fds_max restarts gcs rescues kills < <(awk -F'\t' '
	NR == 2 { r0 = $2; f0 = $3 }
	NR >= 2 { if ($2 > rm) rm = $2; if ($3 > fm) fm = $3 }
	END { print r0, rm, f0, fm, $5, $6, $7, $8 }' "$tsv")
# The counts as they stand at the end, not at the last row.
read -r _ _ _ _ restarts gcs rescues kills < <(row end)
want=$((secs / (app_secs + 5)))
echo "soak: ${secs} s; RSS ${rss0} KiB after the first minute, at most ${rss_max} KiB;" \
	"descriptors ${fds0}, at most ${fds_max}; $restarts restarts (want >= $want)," \
	"$gcs gc requests, $rescues rescues, $kills SIGKILLs, $frozen seconds frozen"
echo "soak: figures in $tsv, picture in $out/soak.png"
((rss_max <= rss0 && fds_max <= fds0 && restarts >= want && rescues == 0 && kills == 0 &&
	frozen == 0))
