#!/bin/bash
# tests/docker/run.sh: oomguard in a real Docker engine (make check-docker).
#
#  1. installs what is missing (docker.io, debootstrap, busybox-static),
#     starts dockerd unless one answers (and stops it at the end);
#  2. makes the base images locally, since no registry is reachable:
#     debootstrap --variant=minbase bookworm from the host's apt mirror,
#     then `docker import` (bookworm, and a bookworm-slim without docs,
#     man pages and locales), and a busybox image from busybox-static. They
#     are kept and reused by later runs (about 90 s to make);
#  3. builds the project's image (Dockerfile), the examples (examples/*)
#     on it, and a busybox image holding only the static binaries;
#  4. runs each tests/docker/test_*.sh under a timeout:
#       test_agent      the host agent (oomguard --docker, on the host):
#                       labelled containers guarded by name, an unlabelled
#                       one left alone, docker update, rm, a bad label
#       test_client     the Engine client alone (tests/docker/dkclient)
#       test_examples   the Python and Node.js examples get and serve gc
#                       requests with their runtime's signal
#       test_field      the Go example under --memory 256m
#                       --oom-kill-disable: frozen alone, 60 s fine under
#                       oomguard; probe inside; non-root
#       test_lifecycle  docker update --memory, docker stop and exit codes
#       test_sidecar    oomguard in a second container, shared PID namespace
#       test_static     the static binary in a busybox-only image
#
# Measured on the 2-core build machine: about 3 min 10 s with the base
# images and build layers cached, about 7 min from nothing (debootstrap
# 90 s, the first image builds 140 s). Docker itself installs in about 35 s.
#
# Every container gets the label oomguard-test=<run id> and is removed on
# exit, whatever happened. Results from every script go to one file; the
# last line is "N passed, N failed, N skipped".
#
# Environment: ONLY=NAME runs the test_*NAME*.sh scripts alone; FIELD_SECS
# (default 60) is how long the guarded field runs last; KEEP_LOGS=1 keeps
# the build and daemon logs (they are kept anyway when something failed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/lib/testlib.sh"
source "$here/lib.sh"

dk_harness docker r
export FIELD_SECS=${FIELD_SECS:-60}
export IMG_OOMGUARD=oomguard-test/oomguard:latest
export IMG_GO=oomguard-test/example-go:latest
export IMG_PYTHON=oomguard-test/example-python:latest
export IMG_NODE=oomguard-test/example-node:latest
export IMG_BUSYBOX=oomguard-test/busybox-gcapp:latest

if ((EUID != 0)); then
	t_skip "docker suite" "needs root (dockerd, debootstrap, the host's cgroup files)"
	dk_finish
fi

dk_engine_ready || dk_finish

dk_phase "images"
base=(--build-arg "BUILD_IMAGE=$DK_DEBIAN:bookworm-$DK_BASE_VERSION")
if dk_build 1200 "$IMG_OOMGUARD" "$root" "${base[@]}" \
	--build-arg "RUN_IMAGE=$DK_DEBIAN:bookworm-slim-$DK_BASE_VERSION" &&
	dk_build 900 "$IMG_GO" "$root/examples/go" "${base[@]}" \
		--build-arg "OOMGUARD_IMAGE=$IMG_OOMGUARD" &&
	dk_build 600 "$IMG_PYTHON" "$root/examples/python" --build-arg "OOMGUARD_IMAGE=$IMG_OOMGUARD" &&
	dk_build 600 "$IMG_NODE" "$root/examples/node" --build-arg "OOMGUARD_IMAGE=$IMG_OOMGUARD" &&
	dk_build 300 "$IMG_BUSYBOX" "$here" -f "$here/busybox.Dockerfile" \
		--build-arg "BASE_IMAGE=$DK_BUSYBOX" --build-arg "OOMGUARD_IMAGE=$IMG_OOMGUARD" \
		--build-arg "APP_IMAGE=$IMG_GO"; then
	t_pass "images build from local bases: the project's, the Go, Python and Node examples, busybox + static binaries"
else
	t_fail "images" "a docker build failed"
	dk_finish
fi

for t in "$here"/test_*.sh; do
	name=$(basename "$t" .sh)
	[[ -n ${ONLY:-} && $name != *"$ONLY"* ]] && continue
	dk_phase "$name"
	t_timeout "${TEST_TIMEOUT:-400}" bash "$t"
	rc=$?
	((rc == 124)) && t_fail "$name" "timed out after ${TEST_TIMEOUT:-400}s"
	((rc != 0 && rc != 124)) && t_fail "$name" "exited with status $rc"
	dk_rm_all
done
dk_finish
