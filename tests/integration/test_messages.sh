#!/bin/bash
# shellcheck source-path=SCRIPTDIR/../lib
# What a user reads: a failed exec is one log line in the chosen format,
# the no-limit warning, the percent of a level, the grace's SIGKILL named
# as such, and a dry run that takes nothing it did not send as done.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/../lib/cgroup.sh"
cg_test_setup
export -n OOMGUARD_CONFIG

# 8: a failed exec is one log line in the chosen format, and no "started".
"$OOMGUARD" --log-format json -- /nonexistent/app 2>"$tmp/exec.log"
rc=$?
bad=$(grep -v '^{"time":' "$tmp/exec.log")
if [[ $rc == 127 && -z $bad ]] && grep -q '"severity":"error","msg":"cannot run /nonexistent/app: No such file or directory"' "$tmp/exec.log" &&
	! grep -q started "$tmp/exec.log"; then
	t_pass "8: a failed exec is one JSON error line, exit 127"
else
	t_fail "8: failed exec" "exit $rc: $(cat "$tmp/exec.log")"
fi

cg_need_v1 "the cases on a cgroup" "need root and a cgroup v1 memory controller"

# 4: no limit and every level a percentage: one warning that says what to
# do and what oomguard still does.
dir=$(cg_create "oomguard-p13-nolimit-$$" -1)
cg_run "$dir" 10 "$OOMGUARD" -- sleep 1 2>"$tmp/nolimit.log"
n=$(grep -c ' warn  .*no limit' "$tmp/nolimit.log")
[[ $n == 1 ]] && grep -q 'size' "$tmp/nolimit.log" && t_pass "4: one warning without a limit" ||
	t_fail "4: no limit" "$n warnings: $(cat "$tmp/nolimit.log")"
cg_destroy "$dir"

# 10: a level given as a size with no limit is logged without a percentage.
dir=$(cg_create "oomguard-p13-size-$$" -1)
cg_run "$dir" 20 "$OOMGUARD" --gc-at 100M -- "$WORKLOAD_DIR/gcsim" --limit 256M --live 50 \
	--rate 64 --duration 3 >/dev/null 2>"$tmp/size.log"
if grep -q ' gc: ' "$tmp/size.log" && ! grep -q 'no limit (0.00%)' "$tmp/size.log"; then
	t_pass "10: no '(0.00%)' of no limit"
else
	t_fail "10: of no limit" "$(grep ' gc: ' "$tmp/size.log" | head -2)"
fi
cg_destroy "$dir"

# 8: JSON percent with two decimals.
dir=$(cg_create "oomguard-p13-json-$$" $((256 << 20)) oom_disable)
cg_run "$dir" 20 "$OOMGUARD" --log-format json -- "$WORKLOAD_DIR/gcsim" --rate 64 --duration 3 \
	>/dev/null 2>"$tmp/json.log"
grep -Eq '"level":"gc".*"percent":[0-9]+\.[0-9]{2}[,}]' "$tmp/json.log" &&
	t_pass "8: JSON percent is a number with two decimals" ||
	t_fail "8: JSON percent" "$(grep -m1 '"level":"gc"' "$tmp/json.log")"
cg_destroy "$dir"

# 10: SIGKILL after the grace period with --kill-at none is not "(kill level)"
# when oomguard restarts the app it ended.
dir=$(cg_create "oomguard-p13-grace-$$" $((256 << 20)) oom_disable)
cg_run "$dir" 12 env OOMGUARD_RESTART_STARTUP=0 \
	"$OOMGUARD" --gc-at none --restart-at 50% --kill-at none --grace 1s -- \
	"$WORKLOAD_DIR/gcsim" --live 60 --rate 16 --ignore-term --usr1 ignore --duration 8 \
	>/dev/null 2>"$tmp/grace.log"
if grep -q 'restarting the app in' "$tmp/grace.log" && ! grep -q 'kill level' "$tmp/grace.log"; then
	t_pass "10: a SIGKILL after the grace is not named the kill level"
else
	t_fail "10: grace" "$(cat "$tmp/grace.log")"
fi
cg_destroy "$dir"

# 7: --dry-run decides and logs as a real run and takes nothing it did
# not do as done: the kill level decided (not sent), then the kernel's OOM
# killer ends the app: oomguard ends with 137, as the app did, and does
# not restart it as if its own kill had ended it.
dir=$(cg_create "oomguard-p13-dry-$$" $((64 << 20)))
cg_run "$dir" 30 "$OOMGUARD" --dry-run -- "$WORKLOAD_DIR/hold" 200 >/dev/null 2>"$tmp/dry.log"
rc=$?
cg_destroy "$dir"
if [[ $rc == 137 ]] && grep -q 'dry run, not sent' "$tmp/dry.log" && ! grep -q restarting "$tmp/dry.log"; then
	t_pass "7: --dry-run: the kernel's kill ends oomguard with 137"
else
	t_fail "7: --dry-run" "exit $rc: $(cat "$tmp/dry.log")"
fi
t_summary
