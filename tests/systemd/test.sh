# shellcheck shell=bash
# test.sh: the head of every tests/systemd/test_*.sh (source it first):
# bash's strict options, the libraries (tests/lib/testlib.sh,
# tests/docker/lib.sh, lib.sh), and exit 143 when run.sh's timeout sends
# SIGTERM.
set -uo pipefail
_sd_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$_sd_dir/../lib/testlib.sh"
source "$_sd_dir/../docker/lib.sh"
source "$_sd_dir/lib.sh"
trap 'exit 143' TERM
