#!/bin/bash
# The command line and configuration as a user meets them: exit codes,
# messages, precedence, and the example file. No cgroup needed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/lib/testlib.sh"
cd "$root"
og() { env -u OOMGUARD_CONFIG "$OOMGUARD" "$@"; }
export -f og

expect() { # NAME WANT_RC WANT_STDERR_SUBSTRING cmd...
	local name=$1 want_rc=$2 want=$3 out rc
	shift 3
	out=$(timeout 10 bash -c '"$@"' _ "$@" 2>&1)
	rc=$?
	if [[ $rc != "$want_rc" ]]; then
		t_fail "$name" "exit $rc, want $want_rc: $out"
	elif [[ $out != *"$want"* ]]; then
		t_fail "$name" "output '$out' lacks '$want'"
	else
		t_pass "$name"
	fi
}

expect "check-config on the example" 0 "configuration OK" og --check-config -c conf/oomguard.ini
expect "short -n" 0 "configuration OK" og -n -c conf/oomguard.ini
expect "missing file" 78 "oomguard: /nonexistent/nope.ini: No such file or directory" og -n -c /nonexistent/nope.ini
expect "bad file names file and line" 78 "tests/config/bad/levels-order.ini:5: [restart] at must be above [gc] at" \
	og -n -c tests/config/bad/levels-order.ini
expect "bad env names the variable" 78 "OOMGUARD_GC_AT: [gc] at: 'lots' is not" \
	env OOMGUARD_GC_AT=lots "$OOMGUARD" -n
expect "unknown env variable" 78 "OOMGUARD_GC_ATT: unknown variable" env OOMGUARD_GC_ATT=1 "$OOMGUARD" -n
expect "bad flag names the flag" 78 "--kill-at: [kill] at: '120%' is out of range" og -n --kill-at 120%
expect "flag order error names the flag" 78 "--restart-at: [restart] at must be above [gc] at" og -n --restart-at 50%
expect "OOMGUARD_CONFIG names the file" 78 "levels-order.ini:5:" \
	env OOMGUARD_CONFIG=tests/config/bad/levels-order.ini "$OOMGUARD" -n
expect "unknown option" 64 "unknown option '--frobnicate'" og --frobnicate
expect "option without value" 64 "option '--gc-at' needs a value" og --gc-at
expect "usage hint" 64 "Try 'oomguard --help'" og --frobnicate
expect "no command" 64 "no command given" og
expect "probe takes no arguments" 64 "unexpected argument 'extra'" og probe extra
expect "--json outside probe" 64 "--json goes with probe" og --json -- true
expect "--pid with an app" 64 "--pid names the target of a watch without an app" og --pid 1 -- true
expect "bad pid" 64 "--pid needs a process ID" og probe --pid abc
expect "help" 0 "usage: oomguard" og --help
expect "unknown short option" 64 "unknown option '-x'" og -x
expect "unknown short option in a cluster" 64 "unknown option '-x'" og -nx
expect "short option without value" 64 "option '-c' needs a value" og -c
expect "two commands" 64 "--check-config and probe are two commands" og -n probe

# Options before the command word, and the same word after -- is an app.
expect "options before probe" 0 '"files": ["memory.' og -c conf/oomguard.ini probe --json
expect "--log-format before probe" 0 "cgroup:" og --log-format json probe
expect "an app called probe after --" 127 "cannot run probe" og --log-level error -- probe
expect "probe --json: no limit is null" 0 '"limit_bytes": null' og probe --json --cgroup /

# What the watch is pointed at, named by its flag or variable.
expect "--pid of no process" 1 "oomguard: --pid 999999: no such process" og --pid 999999
expect "probe --pid of no process" 1 "oomguard: --pid 999999: no such process" og probe --pid 999999
expect "--cgroup given a file" 1 "oomguard: --cgroup: /etc/passwd is not a directory" \
	og --cgroup /etc/passwd
expect "cgroup variable given a file" 1 "oomguard: OOMGUARD_WATCH_CGROUP: /etc/passwd is not a directory" \
	env OOMGUARD_WATCH_CGROUP=/etc/passwd "$OOMGUARD" probe
expect "target group without an app" 78 \
	"oomguard: OOMGUARD_ACTION_TARGET: [action] target = group is the process group of the app" \
	env OOMGUARD_ACTION_TARGET=group "$OOMGUARD" --cgroup /

# The configuration file: a directory is not one, an empty variable is named.
expect "-c a directory" 78 "oomguard: /tmp: Is a directory (expected a configuration file)" og -n -c /tmp
expect "OOMGUARD_CONFIG a directory" 78 "oomguard: OOMGUARD_CONFIG: /tmp: Is a directory" \
	env OOMGUARD_CONFIG=/tmp "$OOMGUARD" -n
expect "OOMGUARD_CONFIG missing file" 78 "oomguard: OOMGUARD_CONFIG: /nonexistent.ini: No such file" \
	env OOMGUARD_CONFIG=/nonexistent.ini "$OOMGUARD" -n
expect "OOMGUARD_CONFIG empty" 78 "oomguard: OOMGUARD_CONFIG is empty" env OOMGUARD_CONFIG= "$OOMGUARD" -n
expect "comments after values, names in any case" 0 "configuration OK" \
	og -n -c tests/config/good/comments-case.ini

# A level set alone is valid: the rearm level follows it.
expect "gc level alone by env" 0 "configuration OK" env OOMGUARD_GC_AT=60% "$OOMGUARD" -n
expect "gc level alone in a file" 0 "configuration OK" og -n -c tests/config/good/level-alone.ini
expect "restart level alone, gc off" 0 "configuration OK" og -n -c tests/config/good/restart-alone.ini
got=$(og --gc-at 60% --dump-config | grep '^# rearm_below')
[[ $got == "# rearm_below = 56%" ]] && t_pass "rearm_below follows --gc-at (dumped as a comment)" || t_fail "rearm follows" "got '$got'"
expect "level against a default" 78 "oomguard: --gc-at: [restart] at must be above [gc] at ([restart] at is 90% by default)" \
	og -n --gc-at 95%
expect "reserve of the whole limit" 78 "OOMGUARD_RESERVE_SIZE: [reserve] size must be below [gc] rearm_below" \
	env OOMGUARD_RESERVE_SIZE=100% "$OOMGUARD" -n
expect "reserve above the gc level" 78 "OOMGUARD_RESERVE_SIZE: [reserve] size must be below [gc] rearm_below" \
	env OOMGUARD_RESERVE_SIZE=80% "$OOMGUARD" -n

# Units and names: case-insensitive, a unit where one is needed.
expect "level keyword in capitals" 0 "configuration OK" og -n --gc-at NONE
expect "log level in capitals" 0 "configuration OK" og -n --log-level DEBUG
expect "a bare number is no size" 78 "--gc-at: [gc] at: '700' is not none" og -n --gc-at 700
expect "a level of 0" 78 "--gc-at: [gc] at: '0' is out of range (a size above 0" og -n --gc-at 0
expect "a fraction without unit" 78 "--gc-at: [gc] at: '1.5' is not" og -n --gc-at 1.5
expect "a size past 64 bits" 78 "'99999999999T' is out of range (at most 16777215T)" og -n --gc-at 99999999999T
expect "SIGCHLD's own reason" 78 "SIGCHLD cannot be used here (SIGCHLD is ignored unless handled" \
	og -n --gc-signal SIGCHLD
expect "version" 0 "oomguard 0." og --version

# Precedence: flags over environment over file over defaults.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '[gc]\nat = 60%%\nrearm_below = 50%%\n[restart]\ngrace = 5s\n' >"$tmp/a.ini"
got=$(OOMGUARD_GC_AT=65% og -c "$tmp/a.ini" --dump-config --grace 7s |
	grep -E '^(at|grace|rearm_below) =' | sed -n '1p;2p;4p' | tr '\n' ' ')
if [[ $got == "at = 65% rearm_below = 50% grace = 7s " ]]; then
	t_pass "precedence flags > env > file"
else
	t_fail "precedence flags > env > file" "got '$got'"
fi
got=$(OOMGUARD_GC_AT=65% og -c "$tmp/a.ini" --dump-config --gc-at 62% | grep -m1 '^at =')
[[ $got == "at = 62%" ]] && t_pass "flag beats env" || t_fail "flag beats env" "got '$got'"

# A dump parses back to the same dump.
og -c "$tmp/a.ini" --gc-signal USR2 --dry-run --dump-config >"$tmp/dump.ini"
if og -c "$tmp/dump.ini" --dump-config | diff -u "$tmp/dump.ini" - >/dev/null; then
	t_pass "dump round-trips"
else
	t_fail "dump round-trips" "$(og -c "$tmp/dump.ini" --dump-config | diff -u "$tmp/dump.ini" -)"
fi
# The example file is the defaults, every key present.
if og -c /dev/null --dump-config | diff -u conf/oomguard.ini - >/dev/null; then
	t_pass "example file is the defaults"
else
	t_fail "example file is the defaults" "conf/oomguard.ini differs from --dump-config"
fi
# Every bad file of the corpus through the binary, exact message, exit 78.
n=0
for f in tests/config/bad/*.ini; do
	out=$(og -n -c "$f" 2>&1)
	rc=$?
	if [[ $rc != 78 || $out != "oomguard: $(cat "${f%.ini}.err")" ]]; then
		t_fail "corpus $(basename "$f")" "exit $rc: $out"
	fi
	n=$((n + 1))
done
t_pass "corpus: $n bad files through the binary"

# The man pages document every key with its default, and every option.
missing=
section=
while read -r line; do
	case $line in
	"["*"]") section=${line#[}; section=${section%]} ;;
	*" = "*)
		key=${line%% = *} value=${line#* = }
		value=${value//-/\\-}
		grep -qF ".BR $key \" = $value\"" docs/oomguard.ini.5 || missing+=" [$section] $key=$value"
		grep -qF ".SH [$section]" docs/oomguard.ini.5 || missing+=" [$section]"
		;;
	esac
done < <(og -c /dev/null --dump-config | sed 's/^# \([a-z_]* = \)/\1/' | grep -v '^#')
[[ -z $missing ]] && t_pass "oomguard.ini(5) has every key and default" ||
	t_fail "oomguard.ini(5)" "missing:$missing"
missing=
for opt in $(og --help | grep -oE -- '--[a-z-]+' | sort -u); do
	grep -qF -- "${opt//-/\\-}" docs/oomguard.8 || missing+=" $opt"
done
[[ -z $missing ]] && t_pass "oomguard(8) has every option" || t_fail "oomguard(8)" "missing:$missing"
t_summary
