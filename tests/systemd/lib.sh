# shellcheck shell=bash
# lib.sh: helpers for oomguard's systemd tests (bash). Source it after
# tests/lib/testlib.sh and tests/docker/lib.sh (for dk, dk_run, dk_build);
# sourcing defines variables and functions and does nothing else.
#
#   sd_image                   the test image (systemd, D-Bus, oomguard's
#                              libraries) tagged by a hash of its inputs;
#                              built only when that tag is missing. Sets
#                              SD_IMAGE
#   sd_container_up            start the container (systemd as PID 1) and
#                              wait for the boot to finish. Sets SD_CTR
#   sd_install UNIT_FILE SVC_FILE
#                              docker cp oomguard, gcsim and the units in;
#                              daemon-reload
#   sd SECS cmd...             run cmd in the container, killed after SECS
#   sd_write PATH              write stdin to PATH in the container
#   sd_prop UNIT PROP          one property of a unit (systemctl show)
#   sd_reset [GCSIM_ARGS [INI]]
#                              stop both units, give testsvc a drop-in with
#                              these gcsim arguments (none: the unit's own
#                              ExecStart=), write INI to
#                              /etc/oomguard/testsvc.ini (none: no
#                              file), daemon-reload, reset-failed
#   sd_start_pair              start testsvc and oomguard@testsvc
#   sd_ini_gc_at LEVEL         an oomguard configuration with [gc] at =
#                              LEVEL and rearm_below = 30%, logging at
#                              debug (an episode's repeated gc requests
#                              are logged there, and counted)
#   sd_gc_below CURSOR PCT     oomguard's gc requests after CURSOR, and how
#                              many of them went out below PCT percent of
#                              the limit: prints "TOTAL BELOW"
#   sd_begin NAME JOURNAL [GCSIM_ARGS [INI]]
#                              a test's start: sd_reset, CURSOR (a global)
#                              set, sd_start_pair, oomguard active; on a
#                              failure t_fail "NAME: set-up" or "NAME:
#                              start" (the journal saved as JOURNAL) and 1
#   sd_cursor                  the journal's current cursor
#   sd_entries CURSOR FIELDS [MATCH...]
#                              journal entries after CURSOR that satisfy
#                              every FIELD=VALUE MATCH, one a line, the
#                              comma-separated FIELDS tab-separated
#   sd_guard_entries CURSOR FIELDS [MATCH...]
#                              the same, restricted to oomguard@testsvc's
#                              own lines (_SYSTEMD_UNIT)
#   sd_messages CURSOR UNIT    MESSAGE of every journal entry about UNIT
#                              after CURSOR (its own lines and systemd's)
#   sd_wait SECS cmd...        run cmd every 0.5 s until it succeeds;
#                              1 if it never did within SECS
#   sd_save_journal NAME CURSOR
#                              both units' journals after CURSOR to
#                              $DK_LOGDIR/NAME.journal
#
# The container gets the label oomguard-test=$DK_RUN like every container
# of the Docker suite, so dk_rm_all removes it whatever happened.

SD_IMAGE_REPO=oomguard-test/systemd
# The instance is "testsvc": oomguard@testsvc.service guards
# testsvc.service, as a user would write it.
SD_GUARD=oomguard@testsvc.service
SD_SVC=testsvc.service
SD_INI=/etc/oomguard/testsvc.ini
SD_DROPIN=/etc/systemd/system/testsvc.service.d/50-test.conf
SD_GCSIM=/usr/local/lib/oomguard-test/gcsim

sd() {
	local secs=$1
	shift
	dk "$secs" exec "$SD_CTR" "$@"
}

sd_write() {
	# shellcheck disable=SC2016 # expanded by the container's shell
	dk 20 exec -i "$SD_CTR" sh -c 'mkdir -p "$(dirname "$1")" && cat >"$1"' sh "$1"
}

sd_prop() {
	sd 20 systemctl show -P "$2" "$1"
}

sd_wait() {
	local deadline=$((SECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		((SECONDS < deadline)) || return 1
		sleep 0.5
	done
}

# _sd_cap_args: --cap-add ALL, minus the capabilities this host's bounding
# set lacks. --privileged asks for every capability and runc then fails
# with "unable to apply caps: operation not permitted" when the engine
# runs with a reduced bounding set (seen here: no CAP_SYS_RESOURCE).
_sd_cap_args() {
	local names=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID
		SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW
		IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT
		SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD
		LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG
		WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE)
	local bnd i
	bnd=$((16#$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)))
	printf '%s\n' --cap-add ALL
	for i in "${!names[@]}"; do
		((bnd >> i & 1)) || printf '%s\n' --cap-drop "${names[i]}"
	done
}

# The capabilities the host lacks, for the report ("" if none).
sd_missing_caps() {
	_sd_cap_args | awk '/^--cap-drop$/ { getline; printf "%s%s", sep, $0; sep = " " }'
}

sd_image() {
	local here base_id hash old
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	base_id=$(dk 30 image inspect -f '{{.Id}}' "$DK_DEBIAN:bookworm-$DK_BASE_VERSION") || return 1
	hash=$({ cat "$here/Dockerfile" "$here/init.sh"; echo "$base_id"; } | sha256sum | cut -c1-12)
	SD_IMAGE=$SD_IMAGE_REPO:$hash
	if dk 30 image inspect "$SD_IMAGE" >/dev/null 2>&1; then
		echo "image: cached ($SD_IMAGE)"
		return 0
	fi
	echo "image: building $SD_IMAGE"
	dk_build 900 "$SD_IMAGE" "$here" -f "$here/Dockerfile" \
		--build-arg "BASE_IMAGE=$DK_DEBIAN:bookworm-$DK_BASE_VERSION" || return 1
	# Earlier versions of this image are of no further use.
	for old in $(dk 30 images --format '{{.Repository}}:{{.Tag}}' "$SD_IMAGE_REPO"); do
		[[ $old == "$SD_IMAGE" ]] || dk 60 rmi "$old" >/dev/null 2>&1
	done
	return 0
}

# sd_container_up: systemd as PID 1 in a container, on a hybrid (or v1)
# host, able to give a service a v1 memory cgroup with a limit:
#
#  --cgroupns=private  the container sees its own cgroup as "/" in every
#                      hierarchy, as systemd on a host does, so units land
#                      at /system.slice/NAME.service (the same paths as on
#                      a real host), and systemd can reach no cgroup of
#                      the host's but its own subtree. The classic set-up,
#                      --cgroupns=host with -v /sys/fs/cgroup:/sys/fs/cgroup,
#                      also boots, but systemd then mounts the hierarchies
#                      the host lacks (perf_event, hugetlb...) in the host's
#                      own /sys/fs/cgroup tmpfs, creating directories there,
#                      and remounts that tmpfs read-only, for the host too
#                      (seen here). run.sh checks that the host's cgroup
#                      mounts are the same after the run.
#  --cap-add ALL ...   instead of --privileged, which fails here (see
#                      _sd_cap_args). CAP_SYS_ADMIN lets init.sh remount
#                      the read-only cgroup mounts writable before it
#                      execs systemd, and systemd set up the namespaces
#                      and mounts of the unit's hardening options.
#  seccomp=unconfined  Docker's default filter denies some of what systemd
#                      does as PID 1 and what units' SystemCallFilter= and
#                      other sandboxing need (nested seccomp, keyrings,
#                      name_to_handle_at...).
#  --tmpfs /run ...    systemd expects /run and /run/lock to be tmpfs
#                      (systemd's CONTAINER_INTERFACE); the journal lives in
#                      /run/log/journal (the image has no /var/log/journal).
#  container=docker    set in the image: systemd knows it is in a
#                      container and skips what only makes sense on
#                      hardware.
sd_container_up() {
	local args state i
	mapfile -t args < <(_sd_cap_args)
	SD_CTR=$(dk_run systemd --cgroupns=private "${args[@]}" \
		--security-opt seccomp=unconfined \
		--tmpfs /run:rw,nosuid,nodev,mode=755 --tmpfs /run/lock:rw,nosuid,nodev,noexec \
		"$SD_IMAGE") || {
		echo "docker run failed" >&2
		return 1
	}
	for ((i = 0; i < ${SD_BOOT_SECS:-90} * 2; i++)); do
		# "starting" while boot jobs run; an error until D-Bus and
		# systemd's socket answer.
		state=$(sd 10 systemctl is-system-running 2>/dev/null)
		case $state in
		running | degraded)
			# shellcheck disable=SC2034 # read by run.sh
			SD_BOOT_STATE=$state
			return 0
			;;
		esac
		if [[ $(dk 10 inspect -f '{{.State.Running}}' "$SD_CTR" 2>/dev/null) != true ]]; then
			echo "the container stopped while booting:" >&2
			dk 10 logs --tail 30 "$SD_CTR" >&2
			return 1
		fi
		sleep 0.5
	done
	echo "systemd did not finish booting within ${SD_BOOT_SECS:-90} s (state: ${state:-no answer}); jobs:" >&2
	sd 10 systemctl list-jobs --no-pager >&2
	dk 10 logs --tail 30 "$SD_CTR" >&2
	return 1
}

sd_install() {
	local unit_file=$1 svc_file=$2 missing
	sd 10 mkdir -p "$(dirname "$SD_GCSIM")" /etc/oomguard || return 1
	dk 30 cp -L "$OOMGUARD" "$SD_CTR:/usr/local/sbin/oomguard" &&
		dk 30 cp -L "$WORKLOAD_DIR/gcsim" "$SD_CTR:$SD_GCSIM" &&
		dk 30 cp -L "$unit_file" "$SD_CTR:/etc/systemd/system/oomguard@.service" &&
		dk 30 cp -L "$svc_file" "$SD_CTR:/etc/systemd/system/testsvc.service" || return 1
	missing=$(sd 10 ldd /usr/local/sbin/oomguard | grep 'not found')
	if [[ -n $missing ]]; then
		echo "oomguard's libraries missing in the image: $missing" >&2
		return 1
	fi
	sd 10 /usr/local/sbin/oomguard --version >/dev/null || return 1
	sd 30 systemctl daemon-reload
}

# shellcheck disable=SC2120 # the arguments are optional
sd_reset() {
	local gcsim_args=${1:-} ini=${2:-} dropin=
	[[ -n $gcsim_args ]] && dropin=$(printf '[Service]\nExecStart=\nExecStart=%s %s\n' "$SD_GCSIM" "$gcsim_args")
	# One docker exec rather than ten (each costs about 0.4 s here).
	dk 120 exec "$SD_CTR" bash -c "$_sd_reset_script" sh "$SD_GUARD" "$SD_SVC" "$SD_DROPIN" "$SD_INI" "$dropin" "$ini"
}

# What sd_reset runs in the container.
# shellcheck disable=SC2016 # expanded by the container's shell
_sd_reset_script=$(
	cat <<'EOF'
guard=$1 svc=$2 dropin_file=$3 ini_file=$4 dropin=$5 ini=$6
# Stop both units (oomguard@testsvc is not bound to testsvc). A unit that does not stop in time is
# killed.
timeout 60 systemctl stop "$guard" "$svc"
for u in "$guard" "$svc"; do
	case $(systemctl show -P ActiveState "$u") in
	inactive | failed) ;;
	*)
		systemctl kill -s KILL "$u"
		timeout 30 systemctl stop "$u"
		;;
	esac
done
rm -rf "$(dirname "$dropin_file")" "$ini_file"
if [ -n "$dropin" ]; then
	mkdir -p "$(dirname "$dropin_file")" && printf '%s\n' "$dropin" >"$dropin_file" || exit 1
fi
if [ -n "$ini" ]; then
	mkdir -p "$(dirname "$ini_file")" && printf '%s\n' "$ini" >"$ini_file" || exit 1
fi
systemctl daemon-reload || exit 1
systemctl reset-failed "$guard" "$svc" 2>/dev/null
exit 0
EOF
)

sd_start_pair() {
	# The callers report failures with the journal; systemctl's own hint
	# ("See systemctl status ...") would only clutter the output.
	sd 60 systemctl start "$SD_SVC" "$SD_GUARD" 2>/dev/null
}

sd_cursor() {
	sd 20 journalctl -q -n 0 --show-cursor | sed -n 's/^-- cursor: //p'
}

# _sd_journal CURSOR [journalctl args...]: journalctl -o export from
# CURSOR on, less the entry at CURSOR itself. Not --after-cursor: with
# matches, journalctl 252 then also drops the first matching entry after
# the cursor (seen here).
_sd_journal() {
	local cursor=$1
	shift
	sd 30 journalctl -q --no-pager -o export ${cursor:+"--cursor=$cursor"} "$@" |
		awk -v skip="$cursor" '
			{ entry = entry $0 "\n" }
			$0 == "__CURSOR=" skip { drop = 1 }
			/^$/ { if (!drop) printf "%s", entry; entry = ""; drop = 0 }
			END { if (!drop) printf "%s", entry }'
}

# _sd_export_tsv FIELDS: journalctl -o export on stdin to one line per
# entry. Export format: FIELD=VALUE lines, a blank line after each entry.
_sd_export_tsv() {
	awk -v fields="$1" '
		BEGIN { n = split(fields, f, ",") }
		function flush(   i, line) {
			if (!seen) return
			line = v[f[1]]
			for (i = 2; i <= n; i++) line = line "\t" v[f[i]]
			print line
			split("", v)
			seen = 0
		}
		/^$/ { flush(); next }
		{ p = index($0, "="); if (p > 1) { v[substr($0, 1, p - 1)] = substr($0, p + 1); seen = 1 } }
		END { flush() }'
}

sd_entries() {
	local cursor=$1 fields=$2
	shift 2
	_sd_journal "$cursor" "$@" | _sd_export_tsv "$fields"
}

sd_guard_entries() {
	local cursor=$1 fields=$2
	shift 2
	sd_entries "$cursor" "$fields" "_SYSTEMD_UNIT=$SD_GUARD" "$@"
}

sd_messages() {
	sd_entries "$1" MESSAGE -u "$2"
}

sd_ini_gc_at() {
	printf '[gc]\nat = %s\nrearm_below = 30%%\n[log]\nlevel = debug\n' "$1"
}

sd_gc_below() {
	sd_guard_entries "$1" OOMGUARD_METRIC_BYTES,OOMGUARD_LIMIT_BYTES,OOMGUARD_PID,OOMGUARD_OUTCOME,MESSAGE \
		OOMGUARD_LEVEL=gc |
		awk -F'\t' -v pct="$2" '{ n++; if ($2 > 0 && $1 * 100 < $2 * pct) b++ } END { print n + 0, b + 0 }'
}

sd_begin() {
	local name=$1 journal=$2
	shift 2
	if ! sd_reset "$@"; then
		t_fail "$name: set-up" "cannot stop the units or write the test files"
		return 1
	fi
	cursor=$(sd_cursor)
	if ! sd_start_pair || [[ $(sd_prop "$SD_GUARD" ActiveState) != active ]]; then
		t_fail "$name: start" "systemctl start failed or $SD_GUARD not active ($(sd_prop "$SD_GUARD" ActiveState)): $(sd_messages "$cursor" "$SD_GUARD" | tail -4 | tr '\n' '|')"
		sd_save_journal "$journal" "$cursor"
		return 1
	fi
}

sd_save_journal() {
	sd 30 journalctl -q --no-pager -o short-precise ${2:+"--cursor=$2"} -u "$SD_GUARD" -u "$SD_SVC" \
		>"$DK_LOGDIR/$1.journal" 2>&1
}
