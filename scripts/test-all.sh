#!/usr/bin/env bash
# THE test command (README, CI): installs the test tools if missing, runs the Rust tests of
# the whole workspace, then the Kotlin binding tests. Prints the seconds each stage took.
# Nothing is printed after a stage's timing line, so the last test-runner line of the output
# is the Kotlin runner's "kotlin: N passed, M failed".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

run_stage() { # run_stage NAME CMD...: runs CMD and prints its wall time
    local name=$1 start=${EPOCHREALTIME/./} ds
    shift
    echo "==> $name"
    "$@"
    ds=$(((${EPOCHREALTIME/./} - start) / 100000))
    echo "<== $name: $((ds / 10)).$((ds % 10))s"
}

run_stage "install-test-tools" bash scripts/install-test-tools.sh
run_stage "cargo test" cargo test --workspace
run_stage "kotlin tests" bash scripts/kotlin-tests.sh
