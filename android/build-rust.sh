#!/usr/bin/env bash
# Cross-compiles ruhu-ffi for the four Android ABIs with cargo-ndk:
#
#   src/main/jniLibs/{arm64-v8a,armeabi-v7a,x86_64,x86}/libruhu_ffi.so
#
# Release build, `--no-default-features`: the default `test-support` feature (TestAuthority,
# a county authority key in memory) must never ship in an app. The unstripped libraries stay
# in <workspace>/target/<triple>/release/, where the Gradle task generateRuhuBindings reads the
# uniffi metadata from (a stripped .so has none).
#
# Needs (none of it exists on the machine that wrote this script, so it was never run there):
#   - the Android NDK (r26+; r28+ aligns to 16 KB pages by itself), ANDROID_NDK_HOME exported
#     (cargo-ndk finds Android Studio's NDK by itself, but the vendored OpenSSL build used by
#     SQLCipher reads ANDROID_NDK_HOME / ANDROID_NDK_ROOT too), and `perl` for that build;
#   - cargo-ndk (`cargo install cargo-ndk`);
#   - the Rust targets (added below when rustup is present).
#
# Usage: android/build-rust.sh            (run by the Gradle task cargoNdkBuild)
# Environment: RUHU_ANDROID_API (default 24, keep equal to minSdk in build.gradle.kts).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OUT="$HERE/src/main/jniLibs"
API="${RUHU_ANDROID_API:-24}"
ABIS=(arm64-v8a armeabi-v7a x86_64 x86)
TRIPLES=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android i686-linux-android)

# Gradle started by Android Studio may not have rustup's folder on its PATH.
if [[ -d "$HOME/.cargo/bin" ]]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! cargo ndk --version >/dev/null 2>&1; then
    echo "build-rust.sh: cargo-ndk is missing: cargo install cargo-ndk" >&2
    exit 1
fi
if command -v rustup >/dev/null 2>&1; then
    rustup target add "${TRIPLES[@]}"
fi
if [[ -z "${ANDROID_NDK_HOME:-}" && -z "${ANDROID_NDK_ROOT:-}" ]]; then
    echo "build-rust.sh: warning: ANDROID_NDK_HOME is not set; cargo-ndk will look for" \
        "Android Studio's NDK, the vendored OpenSSL build may not" >&2
fi

# Android 15+ devices may use 16 KB pages (Google Play requires 16 KB-aligned libraries for
# apps targeting Android 15). NDK r28+ links that way by default; this keeps older NDKs right.
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,max-page-size=16384"

targets=()
for abi in "${ABIS[@]}"; do
    targets+=(-t "$abi")
done

rm -rf "$OUT"
cd "$ROOT"
cargo ndk "${targets[@]}" --platform "$API" -o "$OUT" \
    build --release -p ruhu-ffi --no-default-features

for abi in "${ABIS[@]}"; do
    if [[ ! -s "$OUT/$abi/libruhu_ffi.so" ]]; then
        echo "build-rust.sh: $OUT/$abi/libruhu_ffi.so was not produced" >&2
        exit 1
    fi
done
echo "build-rust.sh: libruhu_ffi.so for ${ABIS[*]} in $OUT (API $API, release, no test-support)"
