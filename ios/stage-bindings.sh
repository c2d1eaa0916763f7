#!/usr/bin/env bash
# Puts uniffi's Swift output where the package expects it, under exactly uniffi's names:
#
#   SWIFT_DIR/ruhu_ffi.swift        -> Sources/Ruhu/ruhu_ffi.swift (target Ruhu's only source)
#   SWIFT_DIR/ruhu_ffiFFI.h         -> build/headers/ruhu_ffiFFI/ruhu_ffiFFI.h
#   SWIFT_DIR/ruhu_ffiFFI.modulemap -> build/headers/ruhu_ffiFFI/module.modulemap
#
# build/headers is what build-xcframework.sh hands to `xcodebuild -create-xcframework
# -headers`. Clang looks up module `ruhu_ffiFFI` as <include dir>/ruhu_ffiFFI/module.modulemap;
# the sub-folder keeps this module map apart from other XCFrameworks' in an app's build.
#
# Fails if uniffi's output differs: other file names, another module or header name in the
# module map, or a Swift file that imports another module. Runs on any OS (no Xcode needed):
# build-xcframework.sh calls it on a Mac, scripts/check-mobile-packages.sh on every CI run.
#
# Usage: ios/stage-bindings.sh SWIFT_DIR [PACKAGE_DIR]   (PACKAGE_DIR defaults to ios/)
set -euo pipefail

SWIFT_DIR="${1:?usage: stage-bindings.sh SWIFT_DIR [PACKAGE_DIR]}"
PACKAGE_DIR="${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"

# uniffi's names for the `ruhu_ffi` crate (the namespace is the crate's library name).
SWIFT_SOURCE="ruhu_ffi.swift"
FFI_MODULE="ruhu_ffiFFI"
HEADER="$FFI_MODULE.h"
MODULEMAP="$FFI_MODULE.modulemap"

fail() {
    echo "stage-bindings: $*" >&2
    exit 1
}

expected=$(printf '%s\n' "$SWIFT_SOURCE" "$HEADER" "$MODULEMAP" | sort)
# (portable: macOS has BSD find, without -printf)
shopt -s nullglob dotglob
actual=$(for f in "$SWIFT_DIR"/*; do [[ -f "$f" ]] && basename "$f"; done | sort)
shopt -u nullglob dotglob
[[ "$actual" == "$expected" ]] ||
    fail "uniffi generated [$(echo $actual)] in $SWIFT_DIR, the package expects [$(echo $expected)]"
grep -Eq "^(framework )?module $FFI_MODULE \\{" "$SWIFT_DIR/$MODULEMAP" ||
    fail "$MODULEMAP does not declare module $FFI_MODULE"
grep -Fq "header \"$HEADER\"" "$SWIFT_DIR/$MODULEMAP" || fail "$MODULEMAP does not name header $HEADER"
grep -Eq "^import $FFI_MODULE\$" "$SWIFT_DIR/$SWIFT_SOURCE" || fail "$SWIFT_SOURCE does not import $FFI_MODULE"

sources="$PACKAGE_DIR/Sources/Ruhu"
headers="$PACKAGE_DIR/build/headers/$FFI_MODULE"
mkdir -p "$sources"
rm -rf "$headers"
mkdir -p "$headers"
# The target's only Swift source is the generated file: remove any other .swift first.
find "$sources" -maxdepth 1 -name '*.swift' -delete
cp "$SWIFT_DIR/$SWIFT_SOURCE" "$sources/$SWIFT_SOURCE"
cp "$SWIFT_DIR/$HEADER" "$headers/$HEADER"
cp "$SWIFT_DIR/$MODULEMAP" "$headers/module.modulemap"
echo "stage-bindings: $sources/$SWIFT_SOURCE; $headers/{$HEADER,module.modulemap}"
