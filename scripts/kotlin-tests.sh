#!/usr/bin/env bash
# Builds ruhu-ffi (debug), generates the Kotlin and Swift bindings into
# target/bindings/{kotlin,swift}, compiles the Kotlin bindings into a jar against JNA, and runs
# every ffi/tests/kotlin/*.kts script on the desktop JVM against target/debug/libruhu_ffi.so.
#
# Each script throws on a failed check (kotlinc then exits non-zero). Closes with
# "kotlin: N passed, M failed" and exits non-zero if any script failed or none ran.
# Needs the tools from scripts/install-test-tools.sh (run it first; it is idempotent).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=tools.env
source "$ROOT/scripts/tools.env"

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
LIB="$TARGET/debug/libruhu_ffi.so"
BINDGEN="$TARGET/debug/uniffi-bindgen"
OUT="$TARGET/bindings"
JAR="$OUT/ruhu_ffi.jar"

# stage NAME: prints the seconds the step just finished took (bash 5 EPOCHREALTIME, in µs).
stage_start=${EPOCHREALTIME/./}
stage() {
    local t=${EPOCHREALTIME/./} ds
    ds=$(((t - stage_start) / 100000))
    printf 'kotlin-tests: %-30s %4d.%ds\n' "$1" $((ds / 10)) $((ds % 10))
    stage_start=$t
}

if [[ ! -x "$KOTLINC" || ! -f "$JNA_JAR" ]]; then
    echo "kotlin-tests: missing $KOTLINC or $JNA_JAR; run scripts/install-test-tools.sh" >&2
    exit 1
fi

# One cargo invocation for both, so `uniffi` is built once with the same features as in
# `cargo test --workspace` / `cargo clippy --workspace` (no rebuild ping-pong).
# The field-day test also runs the real sync server and county authority command.
cargo build --quiet -p ruhu-ffi -p uniffi-bindgen -p sync-server
export RUHU_BIN_DIR="$TARGET/debug"
stage "cargo build (debug)"

rm -rf "$OUT/kotlin" "$OUT/swift"
# Library mode is auto-detected from the .so in uniffi 0.32 (`--library` is deprecated).
# --no-format: ktlint/swift-format are not installed.
"$BINDGEN" generate "$LIB" --language kotlin --out-dir "$OUT/kotlin" --no-format
"$BINDGEN" generate "$LIB" --language swift --out-dir "$OUT/swift" --no-format
for generated in ruhu_ffi.swift ruhu_ffiFFI.h ruhu_ffiFFI.modulemap; do
    if [[ ! -s "$OUT/swift/$generated" ]]; then
        echo "kotlin-tests: Swift generation did not produce $generated" >&2
        exit 1
    fi
done
stage "generate kotlin+swift"

# kotlinc is slow (~15-20 s): recompile the jar only when the generated source changed.
KT_SOURCES=$(find "$OUT/kotlin" -name '*.kt' | sort)
fingerprint=$( (echo "kotlin $KOTLIN_VERSION"; cat $KT_SOURCES) | sha256sum | cut -d' ' -f1)
if [[ -f "$JAR" && -f "$JAR.sha256" && "$(cat "$JAR.sha256")" == "$fingerprint" ]]; then
    stage "compile bindings jar (cached)"
else
    rm -f "$JAR" "$JAR.sha256"
    # shellcheck disable=SC2086 # one path per line, no spaces in generated paths
    "$KOTLINC" $KT_SOURCES -classpath "$JNA_JAR" -d "$JAR" -nowarn
    echo "$fingerprint" >"$JAR.sha256"
    stage "compile bindings jar"
fi

passed=0
failed=0
failed_names=()
shopt -s nullglob
for test in "$ROOT"/ffi/tests/kotlin/*.kts; do
    name=$(basename "$test")
    echo "kotlin-tests: running $name"
    if "$KOTLINC" -classpath "$JNA_JAR:$JAR" -J-Djna.library.path="$TARGET/debug" \
        -script "$test"; then
        passed=$((passed + 1))
        stage "PASS $name"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        stage "FAIL $name"
    fi
done

if ((failed)); then
    echo "kotlin-tests: failed: ${failed_names[*]}" >&2
fi
echo "kotlin: $passed passed, $failed failed"
if ((failed > 0 || passed == 0)); then
    exit 1
fi
