#!/bin/bash
# tests/fuzz/run.sh BUILD SECONDS HARNESS...: run each libFuzzer harness
# BUILD/fuzz_HARNESS for SECONDS on its corpus, seeded from the fixtures
# (tests/fuzz/seed.sh) and from the inputs that once crashed it
# (tests/fuzz/regress/HARNESS/, run first on their own). A crash, a leak,
# a timeout or an out-of-memory fails the run; libFuzzer leaves the input
# in BUILD/crash/. Prints "N passed, N failed, N skipped".
set -u
build=$1 secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0

bash "$here/seed.sh" "$build/seed" || exit 1
mkdir -p "$build/crash"
for h in "$@"; do
	bin=$build/fuzz_$h corpus=$build/corpus/$h
	mkdir -p "$corpus"
	log=$build/fuzz_$h.log
	: >"$log"
	ok=1
	# The inputs that crashed once, each run alone.
	if compgen -G "$here/regress/$h/*" >/dev/null; then
		"$bin" -close_fd_mask=1 "$here/regress/$h"/* >>"$log" 2>&1 || ok=0
	fi
	if [ $ok = 1 ]; then
		# A harness may print what it was fed (fuzz_args: usage errors).
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len=8192 \
			-close_fd_mask=1 -print_final_stats=1 -artifact_prefix="$build/crash/$h-" \
			"$corpus" "$build/seed/$h" >>"$log" 2>&1 || ok=0
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ $ok = 1 ]; then
		passed=$((passed + 1))
		echo "PASS fuzz_$h: ${execs:-0} runs in ${secs} s, $cov, corpus $(ls "$corpus" | wc -l)"
	else
		failed=$((failed + 1))
		echo "FAIL fuzz_$h (log: $log)"
		grep -E 'ERROR|SUMMARY|runtime error|fuzz_[a-z]+:|Test unit written' "$log" | head -20
	fi
done
echo "$passed passed, $failed failed, 0 skipped"
[ $failed = 0 ]
