#!/bin/bash
# The runtime examples (examples/python, examples/node) under oomguard:
# each starts, allocates past a low gc level (OOMGUARD_GC_AT=50M), gets
# the gc request with its runtime's signal, logs that it collected, and
# stops cleanly with docker stop. The Go example is the field scenario
# (test_field.sh).
# Run by run.sh, which builds the images and removes the containers.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/lib.sh"
trap 'exit 143' TERM
trap dk_rm_all EXIT

# example NAME IMAGE SIGNAL SERVED: run one example; SERVED matches the
# app's line for a request that really freed something (the first request
# can come while the app is still building its cache, with nothing to free).
example() {
	local name=$1 image=$2 sig=$3 served=$4 c logs code
	c=$(dk_run "$name" --memory 256m -e OOMGUARD_GC_AT=50M "$image")
	if ! dk_wait_log "$c" "gc: .* $sig to pid [0-9]+: sent" 30; then
		t_fail "$name: gc request" "no $sig request: $(dk 10 logs "$c" 2>&1 | tail -8)"
	elif dk_wait_log "$c" "$served" 20; then
		t_pass "$name: gc requests ($sig) above 50M, and the app freed memory: $(dk 10 logs "$c" 2>&1 | grep -E "$served" | head -1 | cut -c1-150)"
	else
		t_fail "$name: gc served" "no line matching '$served': $(dk 10 logs "$c" 2>&1 | tail -8)"
	fi
	dk 60 stop -t 20 "$c" >/dev/null
	code=$(dk 10 inspect -f '{{.State.ExitCode}}' "$c")
	logs=$(dk 10 logs "$c" 2>&1)
	printf '%s\n' "$logs" >"$DK_LOGDIR/$name.log"
	if [[ $code == 0 ]] && grep -q 'SIGTERM: exiting cleanly' <<<"$logs" &&
		! grep -qE ' (restart|kill): |does not handle|killed by signal' <<<"$logs"; then
		t_pass "$name: docker stop, clean exit 0, no escalation"
	else
		t_fail "$name: docker stop" "exit code $code: $(tail -4 <<<"$logs")"
	fi
	dk_rm "$c"
}

example python "$IMG_PYTHON" SIGUSR1 \
	'gc request \(SIGUSR1\): gc\.collect\(\) freed [1-9][0-9]* objects, malloc_trim\(0\) -> 1'
example node "$IMG_NODE" SIGUSR2 \
	'gc request \(SIGUSR2\): global\.gc\(\) freed ([1-9][0-9]*\.[0-9]|0\.[1-9])MiB'
exit 0
