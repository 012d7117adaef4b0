#!/bin/bash
# shellcheck source-path=SCRIPTDIR/../lib
# A new user's first hour, in the README's order: build, probe, check the
# shipped configuration and the README's example, run the demo workload
# under the defaults in a cgroup with a limit, change a setting by file,
# environment and flag and see the running oomguard take it, and read the
# log as text and as JSON. Each step is what the README says it does.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
source "$root/tests/docs/examples.sh"
cd "$root"
cg_test_setup
export -n OOMGUARD_CONFIG

# 1. Build, as the README says, into a build directory of its own.
if make -s BUILD="$tmp/build" "$tmp/build/oomguard" >"$tmp/make.log" 2>&1 &&
	[[ $("$tmp/build/oomguard" --version) == "oomguard "* ]]; then
	t_pass "make builds oomguard"
else
	t_fail "make" "$(tail -20 "$tmp/make.log")"
fi

# 2. probe: what oomguard sees of its own cgroup.
out=$("$OOMGUARD" probe 2>&1)
rc=$?
missing=
for label in cgroup: path: directory: files: usage: limit: notifications:; do
	grep -q "^ *$label" <<<"$out" || missing+=" $label"
done
[[ $rc == 0 && -z $missing ]] && t_pass "probe shows the cgroup, its files, a sample and the notifications" ||
	t_fail "probe" "exit $rc, missing$missing: $out"
json=$("$OOMGUARD" probe --json 2>&1)
grep -q '"files": \["memory\.' <<<"$json" && grep -Eq '"limit_bytes": ([0-9]+|null),' <<<"$json" &&
	t_pass "probe --json has the files and the limit" || t_fail "probe --json" "$json"

# 3. --check-config on the shipped file and on the README's example.
out=$("$OOMGUARD" --check-config -c conf/oomguard.ini 2>&1)
[[ $out == "configuration OK" ]] && t_pass "the shipped file passes --check-config" ||
	t_fail "shipped file" "$out"
docs_examples README.md | awk '/^@@ /{ p = $2 == "ini"; next } p' >"$tmp/readme.ini"
out=$("$OOMGUARD" --check-config -c "$tmp/readme.ini" 2>&1)
if [[ -s $tmp/readme.ini && $out == "configuration OK" ]] &&
	grep -q '#' "$tmp/readme.ini"; then
	t_pass "the README's example (with its comments) passes --check-config"
else
	t_fail "README example" "$out: $(cat "$tmp/readme.ini")"
fi

cg_need_v1 "the demo workload under the defaults" "needs root and a cgroup v1 memory controller"

# run NAME LOG ARGS...: oomguard ARGS -- gcsim in a new 256 MiB cgroup with
# the OOM killer off, as make demo does (gcsim's own lines start with
# "gcsim: "); print oomguard's exit code and
# whether the cgroup ever froze.
run() {
	local name=$1 log=$2 dir rc frozen=0
	shift 2
	dir=$(cg_create "oomguard-newuser-$name-$$" $((256 << 20)) oom_disable) || return 1
	cg_run "$dir" 60 "$OOMGUARD" "$@" -- "$WORKLOAD_DIR/gcsim" --rate 64 --duration "$GCSIM_SECS" \
		>/dev/null 2>"$log" &
	local pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		[[ $(cg_under_oom "$dir") == 1 ]] && frozen=1
		sleep 0.05
	done
	wait "$pid"
	rc=$?
	cg_destroy "$dir"
	echo "$rc $frozen"
}

# 4. The demo workload under the defaults: gc requests keep it under its
# limit, it is never killed, and oomguard ends with its exit code 0.
GCSIM_SECS=8
read -r rc frozen < <(run defaults "$tmp/text.log")
# The first request of an episode has its own info line; the repeats are
# summed up in at most one line a second ("gc: N more requests in ...").
gcs=$(grep -c ' info  gc: workingset .* SIGUSR1 to pid [0-9]*: sent' "$tmp/text.log")
gcs=$((gcs + $(awk '/ info  gc: [0-9]+ more requests in / { for (i = 1; i < NF; i++) if ($i == "gc:") n += $(i + 1) } END { print n + 0 }' "$tmp/text.log")))
if [[ $rc == 0 && $frozen == 0 && $gcs -ge 2 ]] && ! grep -q 'kill:\|restart:' "$tmp/text.log"; then
	t_pass "gcsim under the defaults: $gcs gc requests, no freeze, no restart, exit 0"
else
	t_fail "gcsim under the defaults" "exit $rc, frozen $frozen, $gcs gc requests: $(cat "$tmp/text.log")"
fi
bad=$(grep -v "^gcsim: " "$tmp/text.log" | grep -Ev '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z (error|warn |info |debug) ')
[[ -z $bad ]] && t_pass "every text log line has its time and level" || t_fail "text log lines" "$bad"
grep -q ' info  limit 256.0MiB: gc at 192.0MiB, restart at 230.4MiB, kill at 248.3MiB, rearm below 179.2MiB$' \
	"$tmp/text.log" && t_pass "the default levels of a 256 MiB limit" ||
	t_fail "default levels" "$(grep 'limit ' "$tmp/text.log")"

# 5. A setting changed by file, by environment and by flag: the running
# oomguard says which level it uses (70%, 65%, 60% of 256 MiB).
GCSIM_SECS=1
printf '[gc]\nat = 70%%   # by file\n' >"$tmp/my.ini"
run file "$tmp/file.log" -c "$tmp/my.ini" >/dev/null
OOMGUARD_GC_AT=65% run env "$tmp/env.log" -c "$tmp/my.ini" >/dev/null
OOMGUARD_GC_AT=65% run flag "$tmp/flag.log" -c "$tmp/my.ini" --gc-at 60% >/dev/null
for c in "file 179.2MiB 167.2MiB" "env 166.4MiB 155.3MiB" "flag 153.6MiB 143.4MiB"; do
	read -r how at rearm <<<"$c"
	if grep -q "limit 256.0MiB: gc at $at, .* rearm below $rearm\$" "$tmp/$how.log"; then
		t_pass "gc level set by $how: gc at $at, the rearm level following ($rearm)"
	else
		t_fail "gc level by $how" "$(cat "$tmp/$how.log")"
	fi
done

# 6. The same run's log as JSON: one object per line, the gc requests with
# their fields.
GCSIM_SECS=4
read -r rc frozen < <(run json "$tmp/json.log" --log-format json)
bad=$(grep -v "^gcsim: " "$tmp/json.log" | grep -Ev '^\{"time":"[0-9T:.-]{23}Z","severity":"(error|warn|info|debug)","msg":".*\}$')
gc=$(grep -m1 '"level":"gc"' "$tmp/json.log")
if [[ $rc == 0 && -s $tmp/json.log && -z $bad ]]; then
	t_pass "every JSON log line is one object with time, severity and msg"
else
	t_fail "JSON log lines" "exit $rc: $bad"
fi
if [[ $gc =~ \"metric_bytes\":[0-9]+,\"limit_bytes\":268435456 && $gc =~ \"percent\":[0-9]+\.[0-9]{2}[,}] &&
	$gc == *'"action":"SIGUSR1"'* && $gc == *'"outcome":"sent"'* ]]; then
	t_pass "a gc request in JSON: level, metric, limit, percent, action, outcome"
else
	t_fail "JSON gc request" "'$gc'"
fi
t_summary
