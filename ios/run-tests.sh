#!/usr/bin/env bash
# Runs the package's XCTests (Tests/RuhuTests/FieldDayTests.swift) on a Mac:
#   1. build-xcframework.sh --test-support: the library with TestAuthority, with a macOS slice
#      so that `swift test` can run on the Mac itself;
#   2. the desktop sync-server and county-authority, which testFieldDay starts (RUHU_BIN_DIR);
#   3. `swift test`.
# On an iOS simulator instead (testFieldDay is skipped there: iOS has no Process):
#   cd ios && xcodebuild test -scheme Ruhu -destination 'platform=iOS Simulator,name=iPhone 16'
#
# Leaves a TEST build in ios/RuhuFFI.xcframework: run ./build-xcframework.sh (no flag) before
# shipping. Never run on the machine that wrote it (Linux, no Swift toolchain).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

bash "$HERE/build-xcframework.sh" --test-support
(cd "$ROOT" && cargo build --quiet -p sync-server)
RUHU_BIN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/debug" swift test --package-path "$HERE"
echo "run-tests: ios/RuhuFFI.xcframework is a TEST build now; run ios/build-xcframework.sh before shipping"
