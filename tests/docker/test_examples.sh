#!/bin/bash
# The runtime examples (examples/python, examples/node, examples/java)
# under oomguard: each starts, allocates past a low gc level
# (OOMGUARD_GC_AT=50M), gets the gc request with its runtime's signal,
# logs that it collected, and stops cleanly with docker stop. The Go
# example is the field scenario (test_field.sh). Then the runtime hints in
# a container: the app in the project's image gets them for --memory
# 256m, keeps a value the user set, gets none without a limit, and the
# JVM of the Java example runs with the heap limit they give it.
# Run by run.sh, which builds the images (the Java example's here) and
# removes the containers.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
IMG_JAVA=oomguard-test/example-java:latest
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
if dk_build 900 "$IMG_JAVA" "$root/examples/java" --build-arg "OOMGUARD_IMAGE=$IMG_OOMGUARD"; then
	example java "$IMG_JAVA" SIGUSR1 \
		'gc request \(SIGUSR1\): System\.gc\(\) freed ([1-9][0-9]*\.[0-9]|0\.[1-9])MiB'
else
	t_fail "java: image" "docker build of examples/java failed"
fi

# --- the runtime hints in a container ---
vars='^(GOMEMLIMIT|NODE_OPTIONS|JAVA_TOOL_OPTIONS|DOTNET_GCHeapHardLimit)='
# in_container [docker run options] -- cmd...: the app's output and oomguard's log.
in_container() {
	local opts=()
	while [[ $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	shift
	dk 60 run --rm --label "oomguard-test=$DK_RUN" --network none "${opts[@]}" "$IMG_OOMGUARD" "$@" 2>&1
}
out=$(in_container --memory 256m -- env)
got=$(grep -E "$vars" <<<"$out" | sort | tr '\n' ' ')
[[ $got == "DOTNET_GCHeapHardLimit=0xac00000 GOMEMLIMIT=172MiB JAVA_TOOL_OPTIONS=-Xmx124m NODE_OPTIONS=--max-old-space-size=156 " ]] &&
	grep -q 'info  runtime hints for limit 256.0MiB (soft under 192.0MiB, hard under 230.4MiB): GOMEMLIMIT=172MiB' <<<"$out" &&
	t_pass "hints: the app in a 256m container gets them, and the log says so" ||
	t_fail "hints in a container" "$out"
out=$(in_container --memory 256m -e GOMEMLIMIT=100MiB -e NODE_OPTIONS=--trace-gc -- env)
got=$(grep -E '^(GOMEMLIMIT|NODE_OPTIONS)=' <<<"$out" | sort | tr '\n' ' ')
[[ $got == "GOMEMLIMIT=100MiB NODE_OPTIONS=--trace-gc --max-old-space-size=156 " ]] &&
	grep -q "the user's own kept: GOMEMLIMIT=100MiB" <<<"$out" &&
	t_pass "hints: the user's -e GOMEMLIMIT kept, NODE_OPTIONS kept with ours appended" ||
	t_fail "hints, the user's values" "$out"
out=$(in_container -- env)
grep -qE "$vars|runtime hints" <<<"$out" && t_fail "hints without a limit" "$out" ||
	t_pass "hints: none without --memory"
out=$(in_container --memory 256m --entrypoint /usr/local/bin/oomguard -- hints --shell)
grep -qx "export GOMEMLIMIT='172MiB'" <<<"$out" && t_pass "hints: oomguard hints --shell in the container" ||
	t_fail "oomguard hints --shell in a container" "$out"
if _dk_have_image "$IMG_JAVA"; then
	c=$(dk_run java-hints --memory 256m "$IMG_JAVA")
	if dk_wait_log "$c" 'max heap' 60; then
		line=$(dk 10 logs "$c" 2>&1 | grep -m1 'max heap')
		heap=$(sed -n 's/.*max heap \([0-9]*\)\..*/\1/p' <<<"$line")
		[[ $line == *"JAVA_TOOL_OPTIONS=-Xmx124m"* && -n $heap ]] && ((heap > 64 && heap <= 124)) &&
			t_pass "hints: the JVM in a 256m container runs with a ${heap} MiB heap (-Xmx124m)" ||
			t_fail "hints: the JVM's heap" "$line"
	else
		t_fail "hints: the JVM's heap" "no start line: $(dk 10 logs "$c" 2>&1 | tail -5)"
	fi
	dk_rm "$c"
fi
exit 0
