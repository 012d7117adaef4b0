#!/bin/bash
# Run every fault test (tests/faults/test_*.sh) through
# tests/lib/runsuite.sh: each under a timeout, one closing line
# "faults: N passed, N failed, N skipped" over all of them.
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/../lib/runsuite.sh" "$here" faults
