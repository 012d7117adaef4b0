#!/bin/bash
# The command line and configuration as a user meets them: exit codes,
# messages, precedence, and the example file. No cgroup needed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/lib/testlib.sh"
cd "$root"
og() { env -u OOMGUARD_CONFIG "$OOMGUARD" "$@"; }

expect() { # NAME WANT_RC WANT_STDERR_SUBSTRING cmd...
	local name=$1 want_rc=$2 want=$3 out rc
	shift 3
	out=$("$@" 2>&1)
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
expect "missing file" 78 "nope.ini: No such file or directory" og -n -c /nonexistent/nope.ini
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
	if [[ $rc != 78 || $out != "$(cat "${f%.ini}.err")" ]]; then
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
done < <(og -c /dev/null --dump-config | grep -v '^#')
[[ -z $missing ]] && t_pass "oomguard.ini(5) has every key and default" ||
	t_fail "oomguard.ini(5)" "missing:$missing"
missing=
for opt in $(og --help | grep -oE -- '--[a-z-]+' | sort -u); do
	grep -qF -- "${opt//-/\\-}" docs/oomguard.8 || missing+=" $opt"
done
[[ -z $missing ]] && t_pass "oomguard(8) has every option" || t_fail "oomguard(8)" "missing:$missing"
t_summary
