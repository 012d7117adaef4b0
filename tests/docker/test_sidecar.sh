#!/bin/bash
# oomguard as a sidecar (docs/kubernetes.md): the Go service runs alone in
# its container (--memory 256m --oom-kill-disable); oomguard runs in a
# second container that shares its PID namespace (Kubernetes:
# shareProcessNamespace) and has the host's cgroupfs read-only (a hostPath
# volume), and watches the app container's cgroup, found from the app's
# /proc/PID/cgroup by the same shell lines as in docs/kubernetes.md.
# Run by run.sh, which builds the images and removes the containers.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/lib.sh"
trap 'exit 143' TERM
trap dk_rm_all EXIT
secs=${SIDECAR_SECS:-20}

if [[ $(dk 10 info -f '{{.CgroupVersion}}') != 1 ]]; then
	t_skip "sidecar" "needs cgroup v1 (on v2 the app's /proc/PID/cgroup path is relative to a private cgroup namespace)"
	exit 0
fi

app=$(dk_run sidecar-app --memory 256m --memory-swap 256m --oom-kill-disable \
	--entrypoint /usr/local/bin/gcapp "$IMG_GO")
# shellcheck disable=SC2016 # expanded by the sidecar's shell
script='until pid=$(grep -l "^/usr/local/bin/gcapp" /proc/[0-9]*/cmdline 2>/dev/null | head -1 | cut -d/ -f3) && [ -n "$pid" ]; do sleep 1; done
exec /usr/local/bin/oomguard --cgroup "$(awk -F: '\''$2 ~ /(^|,)memory(,|$)/ { print $3 }'\'' /proc/$pid/cgroup)"'
side=$(dk_run sidecar --pid "container:$app" -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
	--entrypoint /bin/sh "$IMG_OOMGUARD" -c "$script")
dir=$(dk_memdir "$app")
froze=0
for ((i = 0; i < secs * 5; i++)); do
	if [[ $(dk_under_oom "$dir") == 1 ]]; then
		froze=1
		break
	fi
	sleep 0.2
done
peak=$(cat "$dir/memory.max_usage_in_bytes")
slog=$(dk_logs "$side")
alog=$(dk_logs "$app")
printf '%s\n' "$slog" >"$DK_LOGDIR/sidecar.log"
printf '%s\n' "$alog" >"$DK_LOGDIR/sidecar-app.log"
gcs=$(grep -cE 'gc: .* SIGUSR1 to pid [0-9]+: sent' <<<"$slog")
served=$(grep -c 'gc request (SIGUSR1)' <<<"$alog")
if ((froze == 0 && gcs > 0 && served > 0)) && grep -q "watching $dir " <<<"$slog"; then
	t_pass "sidecar with a shared PID namespace: ${secs}s without a freeze, peak $((peak >> 20)) MiB, $gcs gc requests, $served served"
else
	t_fail "sidecar" "froze=$froze gcs=$gcs served=$served: $(head -3 <<<"$slog")"
fi
exit 0
