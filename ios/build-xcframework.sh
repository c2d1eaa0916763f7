#!/usr/bin/env bash
# Builds the iOS package's binary part and sources, on a Mac with Xcode:
#
#   1. ruhu-ffi as a static library (release) for
#        aarch64-apple-ios      devices
#        aarch64-apple-ios-sim  simulator on Apple silicon  } one fat simulator
#        x86_64-apple-ios       simulator on Intel Macs     } library (lipo)
#      (`cargo rustc --crate-type staticlib`: the crate declares cdylib + lib for Android and
#      the desktop tests; an XCFramework wants a static library);
#   2. the Swift bindings, with the workspace's uniffi-bindgen in library mode, from the
#      device library itself (so the Swift matches exactly what is linked);
#   3. stage-bindings.sh: the generated ruhu_ffi.swift into Sources/Ruhu, the header and
#      module map into build/headers/ruhu_ffiFFI;
#   4. `xcodebuild -create-xcframework` -> RuhuFFI.xcframework (the package's binaryTarget).
#
# Default: --no-default-features, the build an app ships (the `test-support` feature, with
# TestAuthority, must never ship).
# --test-support: default features, plus a macOS slice (aarch64 + x86_64), for running
#   Tests/RuhuTests with `swift test` on the Mac or `xcodebuild test` on a simulator (the
#   tests use TestAuthority). Rebuild without the flag before shipping: the script prints
#   which kind of build it made, and `grep -c TestAuthority Sources/Ruhu/ruhu_ffi.swift`
#   is 0 for a shippable one.
#
# Never run on the machine that wrote it (Linux, no Xcode or Swift toolchain there); CI runs
# stage-bindings.sh on the Swift generated from the desktop library instead (see README.md).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
cd "$ROOT"

TEST_SUPPORT=0
case "${1:-}" in
"") ;;
--test-support) TEST_SUPPORT=1 ;;
*)
    echo "usage: ios/build-xcframework.sh [--test-support]" >&2
    exit 2
    ;;
esac

if [[ "$(uname -s)" != Darwin ]] || ! command -v xcodebuild >/dev/null 2>&1; then
    echo "build-xcframework.sh: needs macOS with Xcode (xcodebuild, lipo)" >&2
    exit 1
fi

# Keep equal to `platforms` in Package.swift.
export IPHONEOS_DEPLOYMENT_TARGET=15.0
export MACOSX_DEPLOYMENT_TARGET=12.0

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
DEVICE=aarch64-apple-ios
SIMULATORS=(aarch64-apple-ios-sim x86_64-apple-ios)
MACOS=(aarch64-apple-darwin x86_64-apple-darwin)
FEATURES=(--no-default-features)
TRIPLES=("$DEVICE" "${SIMULATORS[@]}")
if ((TEST_SUPPORT)); then
    FEATURES=()
    TRIPLES+=("${MACOS[@]}")
fi
LIB=libruhu_ffi.a
OUT="$TARGET_DIR/ios"
SWIFT_OUT="$OUT/swift"

rustup target add "${TRIPLES[@]}"
for triple in "${TRIPLES[@]}"; do
    echo "build-xcframework: cargo rustc --target $triple ${FEATURES[*]:-(default features)}"
    cargo rustc -p ruhu-ffi --lib --crate-type staticlib --release --target "$triple" ${FEATURES[@]+"${FEATURES[@]}"}
done

# One fat library per platform variant: the simulator slices (and the macOS slices) together.
rm -rf "$OUT"
mkdir -p "$OUT/ios-simulator" "$OUT/macos"
slices() { # slices TRIPLE...: the static library of each triple
    for t in "$@"; do echo "$TARGET_DIR/$t/release/$LIB"; done
}
# shellcheck disable=SC2046 # one path per line, no spaces in them
lipo -create $(slices "${SIMULATORS[@]}") -output "$OUT/ios-simulator/$LIB"
if ((TEST_SUPPORT)); then
    # shellcheck disable=SC2046
    lipo -create $(slices "${MACOS[@]}") -output "$OUT/macos/$LIB"
fi

# Swift bindings from the device library (library mode reads uniffi's metadata from it).
cargo run --quiet -p uniffi-bindgen -- generate "$TARGET_DIR/$DEVICE/release/$LIB" \
    --language swift --out-dir "$SWIFT_OUT" --no-format
bash "$HERE/stage-bindings.sh" "$SWIFT_OUT" "$HERE"

rm -rf "$HERE/RuhuFFI.xcframework"
xcf_args=(
    -library "$TARGET_DIR/$DEVICE/release/$LIB" -headers "$HERE/build/headers"
    -library "$OUT/ios-simulator/$LIB" -headers "$HERE/build/headers"
)
if ((TEST_SUPPORT)); then
    xcf_args+=(-library "$OUT/macos/$LIB" -headers "$HERE/build/headers")
fi
xcodebuild -create-xcframework "${xcf_args[@]}" -output "$HERE/RuhuFFI.xcframework"

if ((TEST_SUPPORT)); then
    echo "build-xcframework: TEST build (test-support, TestAuthority inside; iOS + macOS) in ios/RuhuFFI.xcframework — do not ship it"
else
    echo "build-xcframework: release build (no test-support) in ios/RuhuFFI.xcframework"
fi
