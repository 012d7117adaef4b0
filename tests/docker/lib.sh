# shellcheck shell=bash
# lib.sh: helpers for oomguard's Docker tests (bash). Source it after
# tests/lib/testlib.sh; sourcing defines functions and nothing else.
#
#   dk SECS args...            docker ARGS, killed after SECS (a frozen
#                              container makes `docker exec` hang)
#   dk_deps                    apt-get install what is missing (docker.io,
#                              debootstrap, busybox-static)
#   dk_daemon_up LOGDIR        start dockerd unless one answers; sets
#                              DK_STARTED_PID when it started one
#   dk_daemon_down             stop the dockerd that dk_daemon_up started
#   dk_base_images             the local base images (debootstrap +
#                              docker import), made once and then reused
#   dk_build SECS TAG DIR [docker build args...]
#                              docker build, output to $DK_LOGDIR/build-TAG.log
#   dk_run NAME args...        docker run -d with the suite's label; prints
#                              the container id
#   dk_rm CONTAINER            docker rm -f, with a timeout; dk_rm_frozen
#                              when the container is frozen
#   dk_rm_frozen CONTAINER DIR docker rm -f on a frozen container, with the
#                              host's help when a stuck exec blocks it
#   dk_rm_all                  remove every container of this run (trap)
#   dk_memdir CONTAINER        the container's v1 memory cgroup directory on
#                              the host
#   dk_under_oom DIR           0 or 1 (v1 memory.oom_control)
#   dk_logs CONTAINER          docker logs, or the log file when the daemon
#                              hangs on a frozen container
#   dk_exec_answers CONTAINER SECS
#                              0 if `docker exec CONTAINER true` returns
#                              within SECS
#   dk_wait_log CONTAINER REGEX SECS
#                              wait for a line matching REGEX in docker logs
#   dk_harness NAME RUN_PREFIX a suite's run (tests/docker, tests/systemd):
#                              DK_RUN, DK_LOGDIR and T_RESULTS made and
#                              exported, the clock started, SIGTERM/INT
#                              turned into exit 143, dk_cleanup on exit
#   dk_cleanup                 remove this run's containers, prune the
#                              project's superseded images, stop the
#                              dockerd this run started; keep the logs when
#                              something failed or KEEP_LOGS is set
#   dk_phase NAME              print how long the run has taken so far
#   dk_finish [FN]             dk_cleanup, then FN (a last check), then the
#                              summary line and the exit status that goes
#                              with it: the summary comes last
#
# Every container gets the label oomguard-test=$DK_RUN, so that the EXIT
# trap removes exactly those, whatever script started them. Images are kept
# between runs (the base images are the slow part); the project's images
# carry the label oomguard-test=1 so that their dangling predecessors can
# be pruned without touching anyone else's.

DOCKER=${DOCKER:-}
DK_BASE_VERSION=1
DK_DEBIAN=oomguard-test/debian
DK_BUSYBOX=oomguard-test/busybox:$DK_BASE_VERSION

_dk_docker() {
	# docker.io's client matches its engine; prefer it to any other
	# docker on the PATH.
	if [[ -z $DOCKER ]]; then
		if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
	fi
	printf '%s\n' "$DOCKER"
}

dk() {
	local secs=$1
	shift
	timeout -k 5 "$secs" "$(_dk_docker)" "$@"
}

_dk_missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
			printf '%s ' "$p"
	done
}

dk_deps() {
	local missing
	missing=$(_dk_missing docker.io debootstrap busybox-static)
	[[ -z $missing ]] && return 0
	echo "installing: $missing"
	# shellcheck disable=SC2086 # a list of package names
	DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends $missing ||
		{ DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends $missing; }
}

dk_daemon_up() {
	local logdir=$1 i
	DK_STARTED_PID=
	dk 20 info >/dev/null 2>&1 && return 0
	if [[ ! -x /usr/sbin/dockerd ]]; then
		echo "no dockerd (package docker.io)" >&2
		return 1
	fi
	echo "starting dockerd (log: $logdir/dockerd.log)"
	setsid /usr/sbin/dockerd >"$logdir/dockerd.log" 2>&1 </dev/null &
	DK_STARTED_PID=$!
	for ((i = 0; i < 120; i++)); do
		dk 5 info >/dev/null 2>&1 && return 0
		kill -0 "$DK_STARTED_PID" 2>/dev/null || break
		sleep 0.5
	done
	echo "dockerd did not answer within 60 s:" >&2
	tail -20 "$logdir/dockerd.log" >&2
	dk_daemon_down
	return 1
}

dk_daemon_down() {
	local i
	[[ -n ${DK_STARTED_PID:-} ]] || return 0
	kill -TERM "$DK_STARTED_PID" 2>/dev/null
	# dockerd stops the containerd it started, then exits.
	for ((i = 0; i < 300; i++)); do
		kill -0 "$DK_STARTED_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DK_STARTED_PID" 2>/dev/null; then
		echo "dockerd (pid $DK_STARTED_PID) still running after 30 s; SIGKILL" >&2
		kill -KILL "$DK_STARTED_PID" 2>/dev/null
	fi
	wait "$DK_STARTED_PID" 2>/dev/null
	DK_STARTED_PID=
}

# _dk_mirror: the Debian mirror apt uses on this host.
_dk_mirror() {
	local m
	m=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' \
		/etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null |
		grep -oE 'https?://[^ ]+' | head -1)
	printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

# _dk_debian_rootfs DIR: debootstrap a minbase bookworm into DIR and make
# its apt look like an official image's.
_dk_debian_rootfs() {
	local dir=$1 mirror
	mirror=$(_dk_mirror)
	echo "debootstrap --variant=minbase bookworm from $mirror"
	timeout 900 debootstrap --variant=minbase bookworm "$dir" "$mirror" \
		>"$DK_LOGDIR/debootstrap.log" 2>&1 || {
		tail -20 "$DK_LOGDIR/debootstrap.log" >&2
		return 1
	}
	rm -f "$dir/etc/apt/sources.list"
	cat >"$dir/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian*}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	# As in Docker's official images: no package cache kept in layers.
	cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
	rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
}

# _dk_slim DIR: what bookworm-slim leaves out, and dpkg told to keep it out.
_dk_slim() {
	local dir=$1
	cat >"$dir/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/man/*
path-exclude /usr/share/locale/*
EOF
	find "$dir/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
	rm -rf "$dir"/usr/share/info/* "$dir"/usr/share/man/* "$dir"/usr/share/locale/*
}

# _dk_busybox_rootfs DIR: busybox-static and its applets, nothing else.
_dk_busybox_rootfs() {
	local dir=$1 a
	mkdir -p "$dir"/{bin,etc,tmp,proc,sys,dev,root}
	chmod 1777 "$dir/tmp"
	cp /bin/busybox "$dir/bin/busybox"
	for a in $("$dir/bin/busybox" --list); do
		[[ -e $dir/bin/$a ]] || ln -s busybox "$dir/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
		>"$dir/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
}

_dk_import() {
	local dir=$1 tag=$2 cmd=$3
	tar -C "$dir" -c . | dk 300 import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change "CMD [\"$cmd\"]" - "$tag" >/dev/null
}

_dk_have_image() {
	dk 30 image inspect "$1" >/dev/null 2>&1
}

# dk_engine_ready: the packages, a running engine (exported as $DOCKER)
# and the base images, each step announced with dk_phase();
# a failing step is reported with t_fail and the function returns 1.
dk_engine_ready() {
	dk_phase "dependencies"
	if ! dk_deps; then
		t_fail "dependencies" "cannot install docker.io, debootstrap, busybox-static"
		return 1
	fi
	if ! dk_daemon_up "$DK_LOGDIR"; then
		t_fail "docker engine" "dockerd does not answer"
		return 1
	fi
	export DOCKER
	DOCKER=$(_dk_docker)
	echo "docker engine: $(dk 10 version -f '{{.Server.Version}}' 2>&1)," \
		"cgroup v$(dk 10 info -f '{{.CgroupVersion}}' 2>&1)," \
		"$([[ -n $DK_STARTED_PID ]] && echo "started by this run (pid $DK_STARTED_PID)" || echo "already running")"
	dk_phase "base images"
	if ! dk_base_images; then
		t_fail "base images" "debootstrap or docker import failed (logs in $DK_LOGDIR)"
		return 1
	fi
}

dk_base_images() {
	local tmpdir rc=0
	if _dk_have_image "$DK_DEBIAN:bookworm-$DK_BASE_VERSION" &&
		_dk_have_image "$DK_DEBIAN:bookworm-slim-$DK_BASE_VERSION" &&
		_dk_have_image "$DK_BUSYBOX"; then
		echo "base images: cached ($DK_DEBIAN:bookworm-$DK_BASE_VERSION, bookworm-slim-$DK_BASE_VERSION, $DK_BUSYBOX)"
		return 0
	fi
	tmpdir=$(mktemp -d /var/tmp/oomguard-rootfs.XXXXXX)
	{
		_dk_debian_rootfs "$tmpdir/debian" &&
			_dk_import "$tmpdir/debian" "$DK_DEBIAN:bookworm-$DK_BASE_VERSION" /bin/bash &&
			_dk_slim "$tmpdir/debian" &&
			_dk_import "$tmpdir/debian" "$DK_DEBIAN:bookworm-slim-$DK_BASE_VERSION" /bin/bash &&
			_dk_busybox_rootfs "$tmpdir/busybox" &&
			_dk_import "$tmpdir/busybox" "$DK_BUSYBOX" /bin/sh
	} || rc=1
	rm -rf "$tmpdir"
	return $rc
}

dk_build() {
	local secs=$1 tag=$2 dir=$3 log
	shift 3
	log=$DK_LOGDIR/build-${tag//[\/:]/_}.log
	# --network host: apt-get in the build reaches the mirror without
	# Docker's bridge and NAT.
	if ! dk "$secs" build --force-rm --network host --label oomguard-test=1 -t "$tag" "$@" "$dir" \
		>"$log" 2>&1; then
		echo "docker build $tag failed (log $log):" >&2
		tail -25 "$log" >&2
		return 1
	fi
}

dk_run() {
	local name=$1
	shift
	dk 60 run -d --label "oomguard-test=$DK_RUN" --name "og-$DK_RUN-$name" \
		--network none "$@"
}

dk_rm() {
	local dir
	if dir=$(dk_memdir "$1" 2>/dev/null) && [[ $(dk_under_oom "$dir" 2>/dev/null) == 1 ]]; then
		dk_rm_frozen "$1" "$dir"
		(($? < 2))
		return
	fi
	dk 60 rm -f "$1" >/dev/null 2>&1
}

# dk_rm_frozen CONTAINER DIR: remove a container frozen at its limit. A
# `docker exec` into it leaves a `runc init` parked in the memcg OOM wait,
# and containerd's shim then holds every other request for that container
# (kill, stop, rm -f) until that process is gone. So try `docker rm -f`
# for a while, then SIGKILL every task in the container's cgroup from the
# host (SIGKILL ends a task parked in the OOM wait at once) and try again.
# Returns 0 if docker rm -f alone did it, 1 if the host's SIGKILL was
# needed, 2 if the container could not be removed.
dk_rm_frozen() {
	local c=$1 dir=$2 pid i
	dk 15 rm -f "$c" >/dev/null 2>&1 && return 0
	while read -r pid; do
		[[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
	done <"$dir/cgroup.procs"
	# The first removal may still be under way in the daemon (a second
	# one is refused meanwhile): wait for the container to go.
	for ((i = 0; i < 30; i++)); do
		[[ -z $(dk 10 ps -aq --filter "id=$c") ]] && return 1
		dk 20 rm -f "$c" >/dev/null 2>&1
		sleep 1
	done
	return 2
}

dk_rm_all() {
	local id
	for id in $(dk 30 ps -aq --filter "label=oomguard-test=$DK_RUN" 2>/dev/null); do
		dk_rm "$id"
	done
	return 0
}

dk_memdir() {
	local id mnt dir
	# Neither `docker inspect` nor the container's PID: while a removal or
	# a stuck exec holds the container, inspect hangs too. `docker ps`
	# answers from the daemon's snapshot.
	id=$(dk 10 ps -aq --no-trunc --filter "id=$1" | head -1)
	[[ -n $id ]] || return 1
	# The host's own mount of the v1 memory hierarchy (root "/"); the
	# cgroup is .../docker/ID (cgroupfs driver) or .../docker-ID.scope
	# (systemd driver).
	mnt=$(awk '$4 == "/" && / - cgroup / && $NF ~ /(^|,)memory(,|$)/ { print $5; exit }' \
		/proc/self/mountinfo)
	[[ -n $mnt ]] || return 1
	dir=$(find "$mnt" -maxdepth 4 -type d \( -name "$id" -o -name "docker-$id.scope" \) -print -quit)
	[[ -n $dir ]] || return 1
	printf '%s\n' "$dir"
}

dk_under_oom() {
	awk '$1 == "under_oom" { print $2 }' "$1/memory.oom_control"
}

# dk_logs CONTAINER: docker logs, or, when the daemon does not answer (an
# exec stuck in a frozen container holds it for that container), the
# json-file log read from the host.
dk_logs() {
	local id root out
	if out=$(dk 10 logs "$1" 2>&1) && [[ -n $out ]]; then
		printf '%s\n' "$out"
		return 0
	fi
	id=$(dk 10 ps -aq --no-trunc --filter "id=$1" | head -1)
	root=$(dk 10 info -f '{{.DockerRootDir}}' 2>/dev/null)
	[[ -n $id && -f ${root:-/var/lib/docker}/containers/$id/$id-json.log ]] || return 1
	sed -E -e 's/^\{"log":"(.*)","stream":.*$/\1/' -e 's/\\n$//' -e 's/\\u003c/</g' \
		-e 's/\\u003e/>/g' -e 's/\\u0026/\&/g' -e 's/\\"/"/g' -e 's/\\t/\t/g' -e 's/\\\\/\\/g' \
		"${root:-/var/lib/docker}/containers/$id/$id-json.log"
}

dk_exec_answers() {
	dk "$2" exec "$1" true >/dev/null 2>&1
}

dk_wait_log() {
	local c=$1 re=$2 secs=$3 deadline=$((SECONDS + $3))
	while ((SECONDS < deadline)); do
		dk 10 logs "$c" 2>&1 | grep -qE "$re" && return 0
		sleep 0.5
	done
	return 1
}

# dk_field_guarded NAME IMAGE SECS [docker run args...]: the field scenario
# under oomguard. IMAGE's entrypoint is oomguard and its command the Go
# service (examples/go); it runs SECS seconds under --memory 256m
# --oom-kill-disable while the host watches the container's cgroup, and
# `docker exec` is tried every 5 s. Records one result per claim.
dk_field_guarded() {
	local name=$1 image=$2 secs=$3 c dir end next_exec froze=0 died=0 ok=0 bad=0
	local peak limit=$((256 << 20)) logs gcs served escal pids
	shift 3
	if ! c=$(dk_run "$name" --memory 256m --memory-swap 256m --oom-kill-disable "$@" "$image"); then
		t_fail "$name: start" "docker run failed"
		return 1
	fi
	if ! dir=$(dk_memdir "$c"); then
		t_fail "$name: cgroup" "cannot find the container's memory cgroup on the host"
		return 1
	fi
	end=$((SECONDS + secs))
	next_exec=$((SECONDS + 5))
	while ((SECONDS < end)); do
		if [[ $(dk_under_oom "$dir" 2>/dev/null) == 1 ]]; then
			froze=1
			break
		fi
		if [[ ! -e $dir/memory.oom_control ]]; then
			died=1
			break
		fi
		if ((SECONDS >= next_exec)); then
			if dk_exec_answers "$c" 5; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
			next_exec=$((SECONDS + 5))
		fi
		sleep 0.2
	done
	peak=$(cat "$dir/memory.max_usage_in_bytes" 2>/dev/null || echo 0)
	logs=$(dk_logs "$c")
	printf '%s\n' "$logs" >"$DK_LOGDIR/$name.log"
	gcs=$(grep -cE 'gc: .* SIGUSR1 to pid [0-9]+: sent' <<<"$logs")
	served=$(grep -c 'gc request (SIGUSR1): debug.FreeOSMemory' <<<"$logs")
	escal=$(grep -cE ' (restart|kill): |restarting the app|was killed by signal' <<<"$logs")
	pids=$(grep -oE 'started [^ ]+ as pid [0-9]+' <<<"$logs" | wc -l)

	if ((froze == 0 && died == 0)); then
		t_pass "$name: ran ${secs}s under --memory 256m --oom-kill-disable, under_oom stayed 0"
	else
		t_fail "$name: no freeze" "froze=$froze died=$died after $((secs - (end - SECONDS)))s: $(tail -5 <<<"$logs")"
	fi
	if ((ok > 0 && bad == 0)); then
		t_pass "$name: docker exec answered within 5 s, $ok times out of $ok"
	else
		t_fail "$name: docker exec" "$ok answered, $bad did not"
	fi
	if ((peak > 0 && peak < limit)); then
		t_pass "$name: peak usage $((peak >> 20)) MiB of 256 MiB (memory.max_usage_in_bytes)"
	else
		t_fail "$name: peak usage" "$peak bytes, limit $limit"
	fi
	if ((gcs > 0 && served > 0 && escal == 0 && pids == 1)); then
		t_pass "$name: $gcs gc requests in the log, $served served by debug.FreeOSMemory, no restart or kill"
	else
		t_fail "$name: gc requests" "$gcs sent, $served served, $escal escalations, $pids app starts"
	fi
	dk_rm "$c"
}

dk_harness() {
	dk_started=$SECONDS
	export DK_RUN="$2$$"
	DK_LOGDIR=$(mktemp -d "/tmp/oomguard-$1.XXXXXX")
	export DK_LOGDIR
	T_RESULTS=$(mktemp "/tmp/oomguard-$1-results.XXXXXX")
	export T_RESULTS
	trap 'exit 143' TERM INT
	trap 'dk_cleanup; rm -f "$T_RESULTS"' EXIT
}

dk_cleanup() {
	local failed=0
	dk_rm_all
	# Superseded builds of the project's test images, nobody else's.
	dk 120 image prune -f --filter label=oomguard-test=1 >/dev/null 2>&1
	dk_daemon_down
	grep -q '^fail$' "$T_RESULTS" 2>/dev/null && failed=1
	if ((failed)) || [[ -n ${KEEP_LOGS:-} ]]; then
		echo "logs kept in $DK_LOGDIR"
	else
		rm -rf "$DK_LOGDIR"
	fi
}

dk_phase() {
	printf -- '-- %s (%ds)\n' "$1" $((SECONDS - dk_started))
}

dk_finish() {
	trap 'rm -f "$T_RESULTS"' EXIT
	dk_cleanup
	[[ -z ${1:-} ]] || "$1"
	dk_phase "done"
	t_summary
	exit
}
