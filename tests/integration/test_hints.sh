#!/bin/bash
# shellcheck source-path=SCRIPTDIR/../lib
# The runtime hints with the real runtimes (Debian's golang, nodejs and
# default-jre-headless, installed by make deps), each started by oomguard
# as its entrypoint in a real memory cgroup with a 256 MiB limit: each
# reports the limit it runs with (Go debug.SetMemoryLimit(-1), Node
# v8.getHeapStatistics().heap_size_limit, Java Runtime.maxMemory()), and
# it fits under the gc level (192 MiB); a value the user set is kept; with
# no limit, or [runtime] hints = none, nothing is set; a limit changed
# while the app runs is logged and applies at its next start; `oomguard
# hints --shell` sets the same in a shell of the cgroup.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
cg_test_setup og_pid

if ! self=$(cg_self_memdir 2>/dev/null) || [[ ! -w $self ]]; then
	t_skip "runtime hints" "no writable memory cgroup here (need root)"
	t_summary
	exit
fi
ver=$(cg_version "$self")
MiB=$((1 << 20))
gc_level=$((192 * MiB)) # 75% of 256 MiB
vars='^(GOMEMLIMIT|NODE_OPTIONS|JAVA_TOOL_OPTIONS|JDK_JAVA_OPTIONS|_JAVA_OPTIONS|DOTNET_GCHeapHardLimit)='
export OOMGUARD_LOG_LEVEL=info
unset GOMEMLIMIT NODE_OPTIONS JAVA_TOOL_OPTIONS JDK_JAVA_OPTIONS _JAVA_OPTIONS DOTNET_GCHeapHardLimit

dir=$(cg_create "oomguard-hints-$$" $((256 * MiB))) || {
	t_fail "create cgroup" "cg_create failed"
	t_summary
	exit 1
}

# in_cg [VAR=VALUE...] -- cmd...: run cmd in the limited cgroup under
# oomguard with those variables added; stdout is the app's, stderr
# oomguard's log (in $tmp/log).
in_cg() {
	local envs=()
	while [[ $1 != -- ]]; do
		envs+=("$1")
		shift
	done
	shift
	cg_exec "$dir" env "${envs[@]}" "$OOMGUARD" -- "$@" 2>"$tmp/log"
}

# --- the environment the app gets ---
env_out=$(in_cg -- env | grep -E "$vars" | sort)
want=$'DOTNET_GCHeapHardLimit=0xac00000\nGOMEMLIMIT=172MiB\nJAVA_TOOL_OPTIONS=-Xmx124m\nNODE_OPTIONS=--max-old-space-size=156'
[[ $env_out == "$want" ]] && t_pass "the app gets every hint for 256 MiB" ||
	t_fail "the app's environment" "got: $env_out"
grep -q "info  runtime hints for limit 256.0MiB (soft under 192.0MiB, hard under 230.4MiB): GOMEMLIMIT=172MiB NODE_OPTIONS=--max-old-space-size=156 JAVA_TOOL_OPTIONS=-Xmx124m DOTNET_GCHeapHardLimit=0xac00000$" "$tmp/log" &&
	t_pass "one log line says what was set" || t_fail "log line" "$(cat "$tmp/log")"

env_out=$(in_cg NODE_OPTIONS=--trace-gc JDK_JAVA_OPTIONS=-Xmx64m GOMEMLIMIT=100MiB -- env | grep -E "$vars" | sort)
want=$'DOTNET_GCHeapHardLimit=0xac00000\nGOMEMLIMIT=100MiB\nJDK_JAVA_OPTIONS=-Xmx64m\nNODE_OPTIONS=--trace-gc --max-old-space-size=156'
[[ $env_out == "$want" ]] && t_pass "the user's own limits kept, other options kept and ours appended" ||
	t_fail "user's values" "got: $env_out"
grep -q "the user's own kept: GOMEMLIMIT=100MiB JDK_JAVA_OPTIONS=-Xmx64m$" "$tmp/log" &&
	t_pass "the log names the user's own settings" || t_fail "log of kept" "$(cat "$tmp/log")"

env_out=$(in_cg OOMGUARD_RUNTIME_HINTS=none -- env | grep -E "$vars")
[[ -z $env_out ]] && ! grep -q "runtime hints" "$tmp/log" && t_pass "[runtime] hints = none sets nothing" ||
	t_fail "hints = none" "got: $env_out"

nolimit=-1
[[ $ver == 2 ]] && nolimit=max
free=$(cg_create "oomguard-hints-free-$$" "$nolimit") || t_fail "create cgroup" "no limit"
env_out=$(cg_exec "$free" "$OOMGUARD" -- env 2>"$tmp/log" | grep -E "$vars")
[[ -z $env_out ]] && ! grep -q "runtime hints" "$tmp/log" && t_pass "no limit: nothing set" ||
	t_fail "no limit" "got: $env_out"

# --- the real runtimes ---
if command -v go >/dev/null; then
	mkdir -p "$tmp/golimit"
	cat >"$tmp/golimit/main.go" <<-'EOF'
		package main

		import (
			"fmt"
			"runtime/debug"
		)

		func main() { fmt.Println(debug.SetMemoryLimit(-1)) }
	EOF
	(cd "$tmp/golimit" && GOCACHE=$tmp/gocache GO111MODULE=off go build -o golimit main.go) ||
		t_fail "go build" "the Go probe did not build"
fi
if [[ -x $tmp/golimit/golimit ]]; then
	got=$(in_cg -- "$tmp/golimit/golimit")
	[[ $got == $((172 * MiB)) ]] && ((got <= gc_level)) &&
		t_pass "Go runs with a memory limit of $got bytes, under the gc level" ||
		t_fail "Go limit" "got '$got'"
	got=$(in_cg GOMEMLIMIT=100MiB -- "$tmp/golimit/golimit")
	[[ $got == $((100 * MiB)) ]] && t_pass "Go: the user's GOMEMLIMIT kept" ||
		t_fail "Go user limit" "got '$got'"
	got=$(cg_exec "$free" "$OOMGUARD" -- "$tmp/golimit/golimit" 2>/dev/null)
	[[ $got == 9223372036854775807 ]] && t_pass "Go without a limit: none set (math.MaxInt64)" ||
		t_fail "Go no limit" "got '$got'"
else
	t_skip "Go" "no go compiler (make deps installs golang-go)"
fi

if command -v node >/dev/null; then
	heap='console.log(require("v8").getHeapStatistics().heap_size_limit)'
	got=$(in_cg -- node -e "$heap")
	# V8's limit is the old space (156 MiB) and its young generation; its
	# own default here is above the cgroup's limit.
	if [[ $got =~ ^[0-9]+$ ]] && ((got >= 156 * MiB && got <= gc_level)); then
		t_pass "Node runs with a heap limit of $((got / MiB)) MiB, under the gc level"
	else
		t_fail "Node heap limit" "got '$got'"
	fi
	user=$(in_cg NODE_OPTIONS=--max-old-space-size=40 -- node -e "$heap")
	[[ $user =~ ^[0-9]+$ ]] && ((user < got && user <= 64 * MiB)) &&
		t_pass "Node: the user's --max-old-space-size kept ($((user / MiB)) MiB)" ||
		t_fail "Node user limit" "got '$user' (with hints '$got')"
else
	t_skip "Node.js" "no node (make deps installs nodejs)"
fi

if command -v java >/dev/null; then
	cat >"$tmp/MaxMemory.java" <<-'EOF'
		public class MaxMemory {
			public static void main(String[] args) {
				System.out.println(Runtime.getRuntime().maxMemory());
			}
		}
	EOF
	# The restart level at 80% (204.8 MiB) gives -Xmx105m, well below the
	# JVM's own default here (half the limit less a survivor space, 121.8
	# MiB), so that a heap from the hint shows.
	got=$(in_cg OOMGUARD_RESTART_AT=80% -- java "$tmp/MaxMemory.java")
	if [[ $got =~ ^[0-9]+$ ]] && ((got > 64 * MiB && got <= 105 * MiB)); then
		t_pass "Java runs with a heap of $((got / MiB)) MiB (-Xmx105m), under the gc level"
	else
		t_fail "Java max memory" "got '$got'"
	fi
	got=$(in_cg JAVA_TOOL_OPTIONS=-Xmx40m -- java "$tmp/MaxMemory.java")
	[[ $got =~ ^[0-9]+$ ]] && ((got <= 40 * MiB)) && t_pass "Java: the user's -Xmx kept" ||
		t_fail "Java user limit" "got '$got'"
else
	t_skip "Java" "no java (make deps installs default-jre-headless)"
fi

# --- a limit changed while the app runs applies at its next start ---
# set_limit BYTES: v1 keeps memsw (where present) at the limit, and the
# limit may never exceed it: raise memsw first, lower it last.
set_limit() {
	if [[ $ver == 2 ]]; then
		echo "$1" >"$dir/memory.max"
	elif [[ -e $dir/memory.memsw.limit_in_bytes ]] && (($1 > $(<"$dir/memory.limit_in_bytes"))); then
		echo "$1" >"$dir/memory.memsw.limit_in_bytes" && echo "$1" >"$dir/memory.limit_in_bytes"
	elif [[ -e $dir/memory.memsw.limit_in_bytes ]]; then
		echo "$1" >"$dir/memory.limit_in_bytes" && echo "$1" >"$dir/memory.memsw.limit_in_bytes"
	else
		echo "$1" >"$dir/memory.limit_in_bytes"
	fi
}
cat >"$tmp/app.sh" <<EOF
#!/bin/sh
echo "GOMEMLIMIT=\$GOMEMLIMIT" >>"$tmp/starts"
while [ ! -e "$tmp/go-on" ]; do sleep 0.05; done
rm -f "$tmp/go-on"
exit 3
EOF
chmod +x "$tmp/app.sh"
: >"$tmp/starts"
cg_spawn "$dir" env OOMGUARD_SUPERVISE_RESTART=always OOMGUARD_SUPERVISE_RESTART_DELAY=0 \
	"$OOMGUARD" -- "$tmp/app.sh" 2>"$tmp/log"
og_pid=$CG_PID
t_wait_log "$tmp/starts" GOMEMLIMIT 10 || t_fail "first start" "$(cat "$tmp/log")"
set_limit $((512 * MiB))
t_wait_log "$tmp/log" "limit now 512.0MiB: the app keeps the runtime hints it started with (GOMEMLIMIT=172MiB .*); GOMEMLIMIT=345MiB .* at its next start" 10 &&
	t_pass "a new limit is logged as applying at the next start" || t_fail "limit change log" "$(cat "$tmp/log")"
touch "$tmp/go-on"
t_wait_log "$tmp/starts" GOMEMLIMIT=345MiB 10 &&
	[[ $(head -1 "$tmp/starts") == GOMEMLIMIT=172MiB ]] &&
	t_pass "the next start gets the new limit's hints" || t_fail "restart" "$(cat "$tmp/starts")"
kill -TERM "$og_pid"
wait "$og_pid" 2>/dev/null
og_pid=
set_limit $((256 * MiB))

# --- oomguard hints, outside the entrypoint ---
out=$("$OOMGUARD" hints --cgroup "$dir")
grep -qx "GOMEMLIMIT=172MiB" <<<"$out" && grep -qx "NODE_OPTIONS=--max-old-space-size=156" <<<"$out" &&
	t_pass "oomguard hints --cgroup prints the hints" || t_fail "hints --cgroup" "$out"
got=$(cg_exec "$dir" env NODE_OPTIONS="--title=it's" sh -c \
	'eval "$("$0" hints --shell)" && echo "$GOMEMLIMIT|$NODE_OPTIONS|$JAVA_TOOL_OPTIONS"' "$OOMGUARD")
[[ $got == "172MiB|--title=it's --max-old-space-size=156|-Xmx124m" ]] &&
	t_pass "eval \"\$(oomguard hints --shell)\" in the cgroup sets them" || t_fail "hints --shell" "got '$got'"
out=$("$OOMGUARD" hints --cgroup "$free")
[[ $out == "# no runtime hints: no memory limit, or [runtime] hints = none" ]] &&
	t_pass "oomguard hints without a limit: nothing" || t_fail "hints no limit" "$out"
"$OOMGUARD" hints --cgroup /nonexistent-og-$$ >/dev/null 2>&1
rc=$?
[[ $rc == 1 ]] && t_pass "oomguard hints on a missing cgroup exits 1" || t_fail "missing cgroup" "exit $rc"
"$OOMGUARD" probe --shell >/dev/null 2>&1
rc=$?
[[ $rc == 64 ]] && t_pass "--shell goes with hints only (64)" || t_fail "--shell usage" "exit $rc"

t_summary
