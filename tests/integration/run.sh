#!/bin/bash
# Run every integration test (tests/integration/test_*.sh) through
# tests/lib/runsuite.sh: each under a timeout, one closing line
# "integration: N passed, N failed, N skipped" over all of them.
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/../lib/runsuite.sh" "$here" integration
