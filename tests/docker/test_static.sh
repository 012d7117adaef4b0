#!/bin/bash
# The static binary in an image that has nothing but busybox (no libc, no
# loader: tests/docker/busybox.Dockerfile), running the field scenario.
# Run by run.sh, which builds the images and removes the containers.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/testlib.sh"
source "$here/lib.sh"
trap 'exit 143' TERM
trap dk_rm_all EXIT

# Nothing in the image could load a dynamic binary.
out=$(dk 30 run --rm --label "oomguard-test=$DK_RUN" --network none --entrypoint /bin/sh \
	"$IMG_BUSYBOX" -c 'ls /lib* /usr/lib 2>&1; /bin/oomguard --version; /bin/oomguard --check-config' 2>&1)
if grep -q '^oomguard [0-9]' <<<"$out" && grep -q 'configuration OK' <<<"$out" &&
	! grep -qE '^ld-linux|libc\.so' <<<"$out"; then
	t_pass "busybox image (no libc): oomguard --version and --check-config of /etc/oomguard run"
else
	t_fail "static binary in busybox" "$out"
fi

if [[ $(dk 10 info -f '{{.CgroupVersion}}') != 1 ]]; then
	t_skip "busybox field scenario" "needs cgroup v1: Docker cannot disable the OOM killer on v2"
	exit 0
fi
dk_field_guarded busybox "$IMG_BUSYBOX" "$FIELD_SECS"
exit 0
