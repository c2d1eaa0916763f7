#!/usr/bin/env bash
# Consistency checks of the mobile packages (android/, ios/) against the bindings uniffi
# generates from the current library. Runs on Linux with no Android SDK, NDK, Gradle Android
# plugin or Swift toolchain, so it can only check that the pieces fit together; the checks it
# cannot run are named at the end. `.ci/run` runs it on every CI run.
#
#   1. bindings: builds ruhu-ffi, uniffi-bindgen and sync-server (debug, the same cargo
#      invocation as scripts/kotlin-tests.sh) and generates into target/bindings/mobile-check/
#      (its own folder, regenerated on every run, so never stale and never in the way of
#      kotlin-tests.sh): Swift, Kotlin (uniffi.ruhu_ffi) and the Android unit tests' Kotlin
#      (uniffi.ruhu_ffi.testsupport, android/uniffi-testsupport.toml); and checks that ruhu-ffi
#      compiles without default features, the configuration both packages ship.
#   2. ios/: Package.swift's binary target and its Ruhu target, whose only source must be the
#      Swift file uniffi generated; stage-bindings.sh run on uniffi's real output (in a copy of
#      ios/) must accept exactly uniffi's file names (.swift, header, module map) and module
#      name and place byte-identical copies where the package and the XCFramework expect them;
#      build-xcframework.sh's targets, features and output path.
#   3. android/: build.gradle.kts generates with --language kotlin into the source set it
#      registers, the package and file path it expects are the generated ones, the test
#      bindings' package matches uniffi-testsupport.toml and the test's import; build-rust.sh
#      builds the four ABIs (release, no default features) into the jniLibs folder Gradle uses;
#      JNA as @aar; R8 keep rules.
#   4. the tests' use of the API (cheap, textual): every method called on a store, receiver or
#      authority, every generated type constructed, its argument labels / named arguments and
#      arity, every error variant and every property read in android/.../FieldDayTest.kt and
#      ios/Tests/RuhuTests/*.swift must exist in the generated Kotlin / Swift.
#      Limits: no type checking (a method is looked up by name across all types, arguments by
#      count, names and labels, not by type); string literals, and the code inside their
#      interpolations, are not looked at; calls on receivers with other names are not checked;
#      a property is accepted when any generated type, the test itself or the language's
#      standard library (a fixed list below) has a member of that name. It catches renamed or
#      removed methods, fields, types, error variants and changed parameter lists; it does not
#      replace compiling the tests (`--run-jvm-tests` compiles and runs the Kotlin one here).
#   5. mirrors: the sha256 of each ffi/tests/kotlin/*.kts recorded in both test files' headers
#      must match the script (WARN, not FAIL: the script changed since the mirrors were last
#      brought in line with it).
#
# Usage: scripts/check-mobile-packages.sh [--run-jvm-tests]
#   --run-jvm-tests  also compiles android/src/test/.../FieldDayTest.kt with kotlinc against the
#                    test bindings and runs it with JUnit 4 on the desktop JVM (needs
#                    scripts/install-test-tools.sh and Debian's junit4; slow: kotlinc).
# Prints one line per check and "mobile-packages: N passed, M failed, W warnings, K not runnable
# here"; exits non-zero if any check failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

RUN_JVM_TESTS=0
case "${1:-}" in
"") ;;
--run-jvm-tests) RUN_JVM_TESTS=1 ;;
*)
    echo "usage: scripts/check-mobile-packages.sh [--run-jvm-tests]" >&2
    exit 2
    ;;
esac

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$(uname -s)" in
Darwin) LIB="$TARGET/debug/libruhu_ffi.dylib" ;;
*) LIB="$TARGET/debug/libruhu_ffi.so" ;;
esac
BINDGEN="$TARGET/debug/uniffi-bindgen"
OUT="$TARGET/bindings/mobile-check"
SWIFT_OUT="$OUT/swift"
KOTLIN_OUT="$OUT/kotlin"
KOTLIN_TEST_OUT="$OUT/kotlin-testsupport"
ANDROID_TEST="android/src/test/kotlin/org/ruhu/core/FieldDayTest.kt"
SWIFT_TEST="ios/Tests/RuhuTests/FieldDayTests.swift"
GRADLE="android/build.gradle.kts"

passed=0
failed=0
warned=0
not_runnable=0
failed_names=()

# check NAME CMD...: runs CMD (a function or command); PASS when it exits 0, FAIL otherwise.
# Its output is shown indented under the result line.
check() {
    local name=$1 output status
    shift
    set +e
    output=$("$@" 2>&1)
    status=$?
    set -e
    if ((status == 0)); then
        passed=$((passed + 1))
        echo "check-mobile: [PASS] $name"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        echo "check-mobile: [FAIL] $name"
    fi
    if [[ -n "$output" ]]; then
        sed 's/^/check-mobile:          /' <<<"$output"
    fi
    return 0
}

warn() {
    warned=$((warned + 1))
    echo "check-mobile: [WARN] $*"
}

cannot_run() {
    not_runnable=$((not_runnable + 1))
    echo "check-mobile: [NOT RUN HERE] $*"
}

# expect FILE EXTENDED-REGEX WHAT: FILE must contain a line matching the regex.
expect() {
    if ! grep -Eq -- "$2" "$1"; then
        echo "$1: no $3 (expected /$2/)"
        return 1
    fi
}

# --- 1. bindings ------------------------------------------------------------------------------

build() {
    # The same invocation as scripts/kotlin-tests.sh (one build, no feature ping-pong).
    cargo build --quiet -p ruhu-ffi -p uniffi-bindgen -p sync-server
}

generate() { # generate LANGUAGE OUT-DIR [--config FILE]
    local language=$1 out=$2
    shift 2
    rm -rf "$out"
    "$BINDGEN" generate "$LIB" --language "$language" --out-dir "$out" --no-format "$@"
}

generate_swift() {
    generate swift "$SWIFT_OUT" || return 1
    local f
    for f in "$SWIFT_OUT"/*; do
        [[ -s "$f" ]] || {
            echo "empty: $f"
            return 1
        }
        echo "$(basename "$f") ($(wc -c <"$f") bytes)"
    done
}

kotlin_file() { # kotlin_file DIR: the single generated .kt under DIR
    local files
    files=$(cd "$1" && find . -name '*.kt' | sed 's|^\./||' | sort)
    if [[ $(wc -l <<<"$files") -ne 1 || -z "$files" ]]; then
        echo "expected one generated .kt file under $1, found: [$files]" >&2
        return 1
    fi
    echo "$files"
}

generate_kotlin() { # generate_kotlin OUT-DIR EXPECTED-PACKAGE [--config FILE]
    local out=$1 package=$2 file
    shift 2
    generate kotlin "$out" "$@" || return 1
    file=$(kotlin_file "$out")
    echo "$file"
    if [[ "$file" != "${package//.//}/ruhu_ffi.kt" ]]; then
        echo "generated $file, expected ${package//.//}/ruhu_ffi.kt"
        return 1
    fi
    expect "$out/$file" "^package $package\$" "package line 'package $package'"
}

no_default_features() {
    cargo check --quiet -p ruhu-ffi --no-default-features
}

echo "check-mobile: bindings from $LIB into $OUT"
check "cargo build -p ruhu-ffi -p uniffi-bindgen -p sync-server (debug, default features)" build
if [[ ! -f "$LIB" || ! -x "$BINDGEN" ]]; then
    echo "check-mobile: no library or bindgen to generate from; stopping" >&2
    echo "mobile-packages: $passed passed, $failed failed, $warned warnings, 0 not runnable here"
    exit 1
fi
check "Swift generation (uniffi-bindgen --language swift)" generate_swift
check "Kotlin generation, package uniffi.ruhu_ffi (shipped by android/)" \
    generate_kotlin "$KOTLIN_OUT" uniffi.ruhu_ffi
check "Kotlin generation with android/uniffi-testsupport.toml, package uniffi.ruhu_ffi.testsupport (Android unit tests)" \
    generate_kotlin "$KOTLIN_TEST_OUT" uniffi.ruhu_ffi.testsupport --config android/uniffi-testsupport.toml
check "ruhu-ffi compiles with --no-default-features (what build-rust.sh and build-xcframework.sh ship)" \
    no_default_features

# --- 2. ios/ ----------------------------------------------------------------------------------

generated_swift_names() { # the generated Swift sources' names, one per line
    local f
    for f in "$SWIFT_OUT"/*.swift; do basename "$f"; done
}

package_swift() {
    local p=ios/Package.swift sources generated
    expect $p '\.binaryTarget\(name: "RuhuFFI", path: "RuhuFFI\.xcframework"\)' 'binaryTarget RuhuFFI at RuhuFFI.xcframework' || return 1
    expect $p 'name: "Ruhu",' 'target Ruhu' || return 1
    expect $p 'dependencies: \["RuhuFFI"\],' 'dependency of Ruhu on RuhuFFI' || return 1
    expect $p 'path: "Sources/Ruhu",' 'path Sources/Ruhu' || return 1
    sources=$(grep -E '^\s*sources: \[' $p | sed -E 's/.*\[(.*)\].*/\1/; s/[", ]+/\n/g' | sed '/^$/d' | sort)
    generated=$(generated_swift_names | sort)
    echo "target Ruhu sources: [$(echo $sources)]; uniffi generated: [$(echo $generated)]"
    [[ -n "$sources" && "$sources" == "$generated" ]]
}

stage_ios() {
    local tmp status=0 sources
    tmp=$(mktemp -d)
    # A copy of the package without build products: the check must not touch ios/ itself.
    tar -C ios --exclude=./build --exclude=./.build --exclude=./RuhuFFI.xcframework -cf - . | tar -C "$tmp" -xf -
    bash "$tmp/stage-bindings.sh" "$SWIFT_OUT" "$tmp" || status=1
    if ((status == 0)); then
        sources=$(cd "$tmp/Sources/Ruhu" && ls -1 -- *.swift 2>/dev/null | sort)
        echo "staged Sources/Ruhu: [$(echo $sources)]"
        [[ "$sources" == "$(generated_swift_names | sort)" ]] || status=1
        local name
        for name in $sources; do
            cmp -s "$SWIFT_OUT/$name" "$tmp/Sources/Ruhu/$name" || {
                echo "$name differs from uniffi's"
                status=1
            }
        done
        cmp -s "$SWIFT_OUT/ruhu_ffiFFI.h" "$tmp/build/headers/ruhu_ffiFFI/ruhu_ffiFFI.h" || {
            echo "staged header differs from uniffi's"
            status=1
        }
        cmp -s "$SWIFT_OUT/ruhu_ffiFFI.modulemap" "$tmp/build/headers/ruhu_ffiFFI/module.modulemap" || {
            echo "staged module.modulemap differs from uniffi's ruhu_ffiFFI.modulemap"
            status=1
        }
    fi
    rm -rf "$tmp"
    return $status
}

xcframework_script() {
    local s=ios/build-xcframework.sh
    expect $s '^FEATURES=\(--no-default-features\)$' 'default --no-default-features' || return 1
    expect $s '^DEVICE=aarch64-apple-ios$' 'device target aarch64-apple-ios' || return 1
    expect $s '^SIMULATORS=\(aarch64-apple-ios-sim x86_64-apple-ios\)$' 'simulator targets' || return 1
    expect $s 'cargo rustc -p ruhu-ffi --lib --crate-type staticlib --release' 'static library build of ruhu-ffi' || return 1
    expect $s 'lipo -create \$\(slices "\$\{SIMULATORS\[@\]\}"\)' 'lipo of the simulator slices' || return 1
    expect $s '--language swift' 'Swift generation' || return 1
    expect $s 'stage-bindings\.sh' 'staging with stage-bindings.sh' || return 1
    expect $s 'xcodebuild -create-xcframework .*-output "\$HERE/RuhuFFI\.xcframework"' \
        'xcodebuild -create-xcframework into Package.swift'"'"'s path' || return 1
}

no_committed_swift_sources() {
    if ! command -v git >/dev/null 2>&1 || ! git rev-parse --git-dir >/dev/null 2>&1; then
        echo "not a git checkout; skipped"
        return 0
    fi
    local committed
    committed=$(git ls-files -- 'ios/Sources/Ruhu/*.swift')
    if [[ -n "$committed" ]]; then
        echo "committed (would shadow or duplicate the generated file): $committed"
        return 1
    fi
}

check "ios/Package.swift: binaryTarget RuhuFFI (RuhuFFI.xcframework); target Ruhu's sources are exactly uniffi's Swift file" \
    package_swift
check "ios/stage-bindings.sh on uniffi's output: exact file names, module ruhu_ffiFFI, byte-identical Sources/Ruhu and XCFramework headers" \
    stage_ios
check "ios/build-xcframework.sh: --no-default-features, aarch64-apple-ios + lipo(aarch64-apple-ios-sim, x86_64-apple-ios), staticlib, Swift from the library, RuhuFFI.xcframework" \
    xcframework_script
check "ios/Sources/Ruhu has no committed Swift source (the generated file is the target's only source)" \
    no_committed_swift_sources

# --- 3. android/ ------------------------------------------------------------------------------

gradle_value() { # gradle_value NAME: the string value of `val NAME = "…"` in build.gradle.kts
    sed -nE "s/^val $1(: String)? = \"([^\"]*)\"\$/\\2/p" "$GRADLE"
}

gradle_bindings() {
    local package file
    package=$(gradle_value bindingsPackage)
    file=$(kotlin_file "$KOTLIN_OUT") || return 1
    echo "bindingsPackage = $package; generated $file"
    [[ -n "$package" && "$file" == "${package//.//}/ruhu_ffi.kt" ]] || {
        echo "build.gradle.kts expects ${package//.//}/ruhu_ffi.kt"
        return 1
    }
    expect "$GRADLE" 'check\(generated\.isFile\)' 'check of the generated file' || return 1
    expect "$GRADLE" 'bindingsPackage\.replace\('"'"'\.'"'"', '"'"'/'"'"'\) \+ "/ruhu_ffi\.kt"' 'expected path of the generated file' || return 1
    expect "$GRADLE" '"--language", "kotlin", "--out-dir", bindingsDir\.absolutePath' 'generation into bindingsDir' || return 1
    expect "$GRADLE" '^val bindingsDir: File = layout\.buildDirectory\.dir\("generated/source/uniffi/main/kotlin"\)' 'bindingsDir' || return 1
    expect "$GRADLE" 'kotlin\.srcDir\(bindingsDir\)' 'bindingsDir in the main source set' || return 1
    expect "$GRADLE" 'workspaceDir\.resolve\("target/aarch64-linux-android/release/libruhu_ffi\.so"\)' \
        'generation from the arm64-v8a release library' || return 1
    expect "$GRADLE" 'tasks\.named\("preBuild"\) \{ dependsOn\(generateRuhuBindings\) \}' 'preBuild -> generateRuhuBindings' || return 1
}

gradle_test_bindings() {
    local package toml_package import
    package=$(gradle_value testBindingsPackage)
    toml_package=$(sed -nE 's/^package_name = "([^"]*)"$/\1/p' android/uniffi-testsupport.toml)
    import=$(sed -nE 's/^import (uniffi\.[a-z_.]+)\.\*$/\1/p' "$ANDROID_TEST")
    echo "testBindingsPackage = $package; uniffi-testsupport.toml = $toml_package; FieldDayTest.kt imports $import.*"
    [[ -n "$package" && "$package" == "$toml_package" && "$package" == "$import" ]] || return 1
    expect android/uniffi-testsupport.toml '^\[crates\.ruhu_ffi\.bindings\.kotlin\]$' 'section for crate ruhu_ffi' || return 1
    [[ -f "$KOTLIN_TEST_OUT/${package//.//}/ruhu_ffi.kt" ]] || {
        echo "no $KOTLIN_TEST_OUT/${package//.//}/ruhu_ffi.kt"
        return 1
    }
    expect "$GRADLE" '"--language", "kotlin", "--config", file\("uniffi-testsupport\.toml"\)\.absolutePath' 'test generation with the toml' || return 1
    expect "$GRADLE" 'kotlin\.srcDir\(testBindingsDir\)' 'testBindingsDir in the test source set' || return 1
    expect "$GRADLE" 'systemProperty\("jna\.library\.path", hostDebugDir\.absolutePath\)' 'jna.library.path for unit tests' || return 1
}

android_native() {
    local s=android/build-rust.sh
    expect $s '^ABIS=\(arm64-v8a armeabi-v7a x86_64 x86\)$' 'the four ABIs' || return 1
    expect $s '^OUT="\$HERE/src/main/jniLibs"$' 'output into src/main/jniLibs' || return 1
    expect $s 'build --release -p ruhu-ffi --no-default-features$' 'release build without default features' || return 1
    expect $s 'cargo ndk "\$\{targets\[@\]\}" --platform "\$API" -o "\$OUT"' 'cargo ndk into $OUT' || return 1
    expect "$GRADLE" 'jniLibs\.srcDir\("src/main/jniLibs"\)' 'jniLibs source folder' || return 1
    expect "$GRADLE" 'commandLine\("bash", file\("build-rust\.sh"\)\.absolutePath\)' 'cargoNdkBuild running build-rust.sh' || return 1
    # minSdk and the API level cargo-ndk links for must agree.
    local api min
    api=$(sed -nE 's/^API="\$\{RUHU_ANDROID_API:-([0-9]+)\}"$/\1/p' $s)
    min=$(sed -nE 's/^ *minSdk = ([0-9]+)$/\1/p' "$GRADLE")
    echo "cargo-ndk API $api, minSdk $min"
    [[ -n "$api" && "$api" == "$min" ]]
}

android_packaging() {
    expect "$GRADLE" 'implementation\("net\.java\.dev\.jna:jna:5\.[0-9]+\.[0-9]+@aar"\)' 'JNA 5.x as @aar' || return 1
    expect "$GRADLE" 'testImplementation\("net\.java\.dev\.jna:jna:5\.[0-9]+\.[0-9]+"\)' 'JNA jar for JVM unit tests' || return 1
    expect "$GRADLE" 'consumerProguardFiles\("consumer-rules\.pro"\)' 'consumer rules' || return 1
    expect android/consumer-rules.pro '^-keep class uniffi\.ruhu_ffi\.\*\* \{ \*; \}$' 'keep rule for the bindings' || return 1
    expect android/consumer-rules.pro '^-keep class com\.sun\.jna\.\*\* \{ \*; \}$' 'keep rule for JNA' || return 1
    expect android/src/main/AndroidManifest.xml '<manifest ' 'manifest' || return 1
    expect "$GRADLE" 'namespace = "' 'android namespace' || return 1
}

check "android/build.gradle.kts: generates --language kotlin into the main source set; package uniffi.ruhu_ffi and path = the generated ones" \
    gradle_bindings
check "android/build.gradle.kts: unit-test bindings package = uniffi-testsupport.toml = FieldDayTest.kt's import, in the test source set" \
    gradle_test_bindings
check "android/build-rust.sh: cargo ndk, four ABIs, --release -p ruhu-ffi --no-default-features into the jniLibs Gradle packages; API = minSdk" \
    android_native
check "android/: JNA 5.x @aar (jar for unit tests), consumer R8 rules keeping JNA and uniffi.ruhu_ffi, manifest" \
    android_packaging

# --- 4. the tests' use of the API -------------------------------------------------------------

api_check() { # api_check kotlin|swift GENERATED TEST
    perl - "$@" <<'PERL'
use strict;
use warnings;
use utf8;
binmode STDOUT, ':encoding(UTF-8)';

my ($lang, $gen_path, $test_path) = @ARGV;
my $kotlin = $lang eq 'kotlin';

sub slurp {
    local $/;
    open my $f, '<:encoding(UTF-8)', $_[0] or die "$_[0]: $!";
    return scalar <$f>;
}

# Drops comments and blanks string literals (keeping line numbers).
sub clean {
    my ($src) = @_;
    $src =~ s{(//[^\n]*)|(/\*.*?\*/)|(\#"(?:[^"]|"(?!\#))*"\#)|("(?:[^"\\\n]|\\.)*")}{
        defined $1 ? '' : defined $2 ? ("\n" x (() = $2 =~ /\n/g)) : '""'
    }gse;
    return $src;
}

my $PARENS = qr/(?<p>\((?:[^()]++|(?&p))*\))/;

# Splits an argument or parameter list (without its parentheses) at top-level commas.
sub split_top {
    my ($s) = @_;
    my (@parts, $depth, $cur);
    ($depth, $cur) = (0, '');
    my @c = split //, $s;
    for my $i (0 .. $#c) {
        my $ch = $c[$i];
        if ($ch =~ /[(\[{<]/) { $depth++ }
        elsif ($ch =~ /[)\]}]/ || ($ch eq '>' && ($i == 0 || $c[$i - 1] ne '-'))) { $depth-- }
        if ($ch eq ',' && $depth == 0) { push @parts, $cur; $cur = ''; next }
        $cur .= $ch;
    }
    push @parts, $cur;
    return grep { /\S/ } @parts;
}

# A parameter: [name or label, has default].
sub param {
    my ($p) = @_;
    my $default = $p =~ /=/ ? 1 : 0;
    $p =~ s/^\s*(?:@\w+(?:\([^)]*\))?\s*)*//;
    if ($kotlin) {
        $p =~ s/^(?:(?:override|private|internal|public|open|vararg|val|var)\s+)*//;
        return $p =~ /^`?(\w+)`?\s*:/ ? [$1, $default] : undef;
    }
    return $p =~ /^(\w+)(?:\s+\w+)?\s*:/ ? [$1, $default] : undef;
}

sub params {
    my ($inner) = @_;
    return [grep { defined } map { param($_) } split_top($inner)];
}

# --- what the generated bindings define -----------------------------------------------------
my $gen = clean(slurp($gen_path));
my (%funcs, %inits, %types, %members, %top_funcs);
if ($kotlin) {
    while ($gen =~ /\bfun\s+(?:<[^>]*>\s*)?(?:[\w.]+\.)?`?(\w+)`?\s*$PARENS/g) {
        push @{ $funcs{$1} }, params(substr($+{p}, 1, -1));
    }
    while ($gen =~ /\b(?:class|interface|object)\s+`?(\w+)`?/g) { $types{$1} = 1 }
    while ($gen =~ /\bclass\s+`?(\w+)`?\s*(?:<[^>]*>)?\s*(?:(?:public|internal|private)?\s*constructor\s*)?$PARENS/g) {
        push @{ $inits{$1} }, params(substr($+{p}, 1, -1));
    }
    # Secondary constructors belong to the class declared last before them.
    while ($gen =~ /\bconstructor\s*$PARENS/g) {
        my ($args, $pos) = ($+{p}, $-[0]);
        my $head = substr($gen, 0, $pos);
        my ($class) = $head =~ /.*\bclass\s+`?(\w+)`?/s;
        push @{ $inits{$class} }, params(substr($args, 1, -1)) if $class;
    }
    while ($gen =~ /\b(?:val|var)\s+`?(\w+)`?\s*:/g) { $members{$1} = 1 }
    $funcs{copy} ||= [];    # data classes' copy(): named arguments are fields (checked below)
} else {
    while ($gen =~ /\bfunc\s+`?(\w+)`?\s*(?:<[^>]*>)?\s*$PARENS/g) {
        push @{ $funcs{$1} }, params(substr($+{p}, 1, -1));
    }
    while ($gen =~ /\b(?:struct|class|enum|protocol)\s+(\w+)/g) { $types{$1} = 1 }
    # Initialisers belong to the type declared last before them (not to extensions of
    # Foundation types such as Data).
    while ($gen =~ /\binit\??\s*$PARENS/g) {
        my ($args, $pos) = ($+{p}, $-[0]);
        my $head = substr($gen, 0, $pos);
        my ($kind, $type) = $head =~ /.*\b(struct|class|enum|extension)\s+(\w+)/s;
        push @{ $inits{$type} }, params(substr($args, 1, -1)) if $type && $kind ne 'extension';
    }
    while ($gen =~ /\b(?:var|let)\s+`?(\w+)`?\s*:/g) { $members{$1} = 1 }
    while ($gen =~ /\bcase\s+`?(\w+)`?/g) { $members{$1} = 1 }
}
for my $f (keys %funcs) { $members{$f} = 1 }

# --- what the test uses ---------------------------------------------------------------------
my $test = clean(slurp($test_path));
$test =~ s/^\s*(?:package|import)\s[^\n]*//mg;    # qualified names there are not API uses
$test =~ s/\b(?:java|javax|kotlin|android)\.(?:[a-z]\w*\.)*(?=[A-Z])//g;    # java.util.Random -> Random
my %declared;
while ($test =~ /\b(?:let|var|val|func|fun|class|struct|enum|case|object|interface)\s+(?:let\s+|var\s+)?`?(\w+)/g) {
    $declared{$1} = 1;
}
while ($test =~ /^\s*case\s+([^\n]+)/mg) {    # Swift: case a = "…", b = "…"
    for my $part (split /,/, $1) { $declared{$1} = 1 if $part =~ /^\s*(\w+)/ }
}
# Parameters of the test's own functions and lambdas count as declared names.
while ($test =~ /\{\s*([\w\s,()]+?)\s*(?:->|\bin\b)/g) {
    $declared{$_} = 1 for $1 =~ /(\w+)/g;
}

my %stdlib = map { $_ => 1 } $kotlin
    ? qw(size length indices lastIndex inputStream isDaemon groupValues first last message cause
         statusCode year)
    : qw(count isEmpty first last path endIndex startIndex description utf8 environment processInfo
         regularExpression statusCode terminationStatus fileHandleForReading fileHandleForWriting readabilityHandler availableData
         standardOutput standardError executableURL arguments httpMethod httpBody temporaryDirectory
         rawValue default shared wholeNumberValue gregorian year timeZone dateFormat);
my %known_types = map { $_ => 1 } $kotlin
    ? qw(AssertionError String CharArray ByteArray IntArray Regex Thread ProcessBuilder URI HttpClient
         HttpRequest HttpResponse Files Path TimeUnit Random Test SECONDS BodyHandlers BodyPublishers POST)
    : qw(Data Set String Character Array URL URLRequest Process Pipe DispatchSemaphore FileManager
         UUID XCTFail XCTUnwrap XCTSkip XCTestCase Unicode Scalar UInt32 UInt64 UInt8 Int ProcessInfo
         HTTPURLResponse URLSession CheckFailed SeededGenerator Kind Error RandomNumberGenerator
         StaticString Calendar Date TimeZone DateFormatter ISO8601DateFormatter Double Dictionary);

my (@problems, %used);
sub line_of { my ($pos) = @_; return 1 + (() = substr($test, 0, $pos) =~ /\n/g) }
sub problem {
    my ($pos, $msg) = @_;
    $msg =~ s/\s+/ /g;
    push @problems, "$test_path:" . line_of($pos) . ": $msg";
}

# Does an argument list fit one of the overloads?
sub fits {
    my ($overloads, $inner) = @_;
    my @args = split_top($inner);
    OVERLOAD: for my $ps (@$overloads) {
        if ($kotlin) {
            my (%filled, $i);
            $i = 0;
            for my $a (@args) {
                if ($a =~ /^\s*(\w+)\s*=(?!=)/) {
                    next OVERLOAD unless grep { $_->[0] eq $1 } @$ps;
                    $filled{$1} = 1;
                } else {
                    next OVERLOAD if $i > $#$ps;
                    $filled{ $ps->[$i][0] } = 1;
                    $i++;
                }
            }
            for my $p (@$ps) { next OVERLOAD unless $filled{ $p->[0] } || $p->[1] }
            return 1;
        } else {
            my @labels = map { /^\s*(\w+)\s*:(?!:)/ ? $1 : '_' } @args;
            my $j = 0;
            for my $p (@$ps) {
                if ($j <= $#labels && $labels[$j] eq $p->[0]) { $j++; next }
                next OVERLOAD unless $p->[1];
            }
            return 1 if $j == @labels;
        }
    }
    return 0;
}

sub describe {
    my ($overloads) = @_;
    return join(' | ', map { '(' . join(', ', map { $_->[0] . ($_->[1] ? '=' : '') } @$_) . ')' } @$overloads);
}

# 1. Methods called on stores, co-sign receivers and authorities.
my $RECEIVER = qr/\b(\w*(?:[sS]tore|[rR]eceiver|[aA]uthority))\s*\.\s*(\w+)\s*(?:$PARENS)?/;
while ($test =~ /$RECEIVER/g) {
    my ($recv, $name, $args, $pos) = ($1, $2, $+{p}, $-[0]);
    next unless defined $args || substr($test, $+[0]) =~ /^\s*\{/;
    $used{"$name()"} = 1;
    if (!$funcs{$name}) {
        problem($pos, "$recv.$name(…): no function $name in the generated bindings");
    } elsif (defined $args && !fits($funcs{$name}, substr($args, 1, -1))) {
        problem($pos, "$recv.$name$args does not fit " . describe($funcs{$name}));
    }
}

# 2. Generated types constructed, generated top-level functions called, unknown types.
while ($test =~ /(?<![\w.])([A-Za-z]\w*)\s*$PARENS/g) {
    my ($name, $args, $pos) = ($1, $+{p}, $-[0]);
    next if $name =~ /^(?:if|for|while|switch|guard|catch|return|when|check|require|init|super|self)$/;
    if ($inits{$name}) {
        $used{"$name(…)"} = 1;
        problem($pos, "$name$args does not fit " . describe($inits{$name})) unless fits($inits{$name}, substr($args, 1, -1));
    } elsif ($name =~ /^[A-Z]/) {
        next if $declared{$name} || $known_types{$name} || $types{$name};
        problem($pos, "$name(…): not a generated type, not declared in the test, not a known library type");
    } elsif ($funcs{$name} && !$declared{$name} && $name ne 'copy') {
        $used{"$name()"} = 1;
        problem($pos, "$name$args does not fit " . describe($funcs{$name})) unless fits($funcs{$name}, substr($args, 1, -1));
    }
}

# 3. Kotlin copy(): named arguments must be fields.
if ($kotlin) {
    while ($test =~ /\.copy\s*$PARENS/g) {
        my ($args, $pos) = ($+{p}, $-[0]);
        for my $a (split_top(substr($args, 1, -1))) {
            next unless $a =~ /^\s*(\w+)\s*=/;
            $used{".$1"} = 1;
            problem($pos, "copy($1 = …): no field $1 in the generated bindings") unless $members{$1};
        }
    }
}

# 4. Error variants and other capitalised members: FfiException.X, KeyStoreError.X, .X cases.
while ($test =~ /\.\s*([A-Z]\w*)\b/g) {
    my ($name, $pos) = ($1, $-[0]);
    next if $known_types{$name} || $declared{$name};
    $used{".$name"} = 1;
    problem($pos, ".$name: no such type or enum case in the generated bindings") unless $types{$name} || $members{$name};
}

# 5. Properties read (a name after a dot, not called).
while ($test =~ /(?<![\d.])\.\s*([a-z]\w*)\b(?!\s*[({])/g) {
    my ($name, $pos) = ($1, $-[0]);
    next if $stdlib{$name} || $declared{$name};
    $used{".$name"} = 1;
    problem($pos, ".$name: no member $name in the generated bindings, the test or the standard-library list")
        unless $members{$name};
}

my $n = keys %used;
print "$n binding names used: ", join(' ', sort keys %used), "\n";
if (@problems) {
    print "$_\n" for @problems;
    exit 1;
}
PERL
}

check "$ANDROID_TEST: every binding it uses exists in the generated Kotlin (uniffi.ruhu_ffi.testsupport)" \
    api_check kotlin "$KOTLIN_TEST_OUT/uniffi/ruhu_ffi/testsupport/ruhu_ffi.kt" "$ANDROID_TEST"
# The XCTests are several files (the tests and their helpers): checked together.
SWIFT_TESTS_COMBINED="$OUT/swift-tests-combined.swift"
cat ios/Tests/RuhuTests/*.swift >"$SWIFT_TESTS_COMBINED"
check "ios/Tests/RuhuTests/*.swift: every binding they use exists in the generated Swift" \
    api_check swift "$SWIFT_OUT/ruhu_ffi.swift" "$SWIFT_TESTS_COMBINED"

# --- 5. the mirrors of the Kotlin scripts -------------------------------------------------------

shopt -s nullglob
for script in ffi/tests/kotlin/*.kts; do
    name=$(basename "$script")
    sum=$( (sha256sum "$script" 2>/dev/null || shasum -a 256 "$script") | cut -d' ' -f1)
    for mirror in "$ANDROID_TEST" "$SWIFT_TEST"; do
        recorded=$(sed -nE "s|^//   $name +sha256:([0-9a-f]+)\$|\\1|p" "$mirror")
        if [[ -z "$recorded" ]]; then
            warn "$mirror does not mirror $name yet (no sha256 recorded for it)"
        elif [[ "$recorded" != "$sum" ]]; then
            warn "$name changed since $mirror was brought in line with it (recorded ${recorded:0:12}…, now ${sum:0:12}…)"
        else
            passed=$((passed + 1))
            echo "check-mobile: [PASS] $mirror mirrors the current $name (sha256 ${sum:0:12}…)"
        fi
    done
done
shopt -u nullglob

# --- optional: the Android unit test on the desktop JVM ---------------------------------------

run_jvm_tests() {
    # shellcheck source=tools.env
    source "$ROOT/scripts/tools.env"
    local junit=/usr/share/java/junit4.jar hamcrest=/usr/share/java/hamcrest-core.jar
    local jar="$OUT/ruhu_ffi_testsupport.jar" classes="$OUT/fieldday-test-classes" kt fingerprint
    if [[ ! -x "$KOTLINC" || ! -f "$JNA_JAR" ]]; then
        echo "missing $KOTLINC or $JNA_JAR: run scripts/install-test-tools.sh"
        return 1
    fi
    if [[ ! -f "$junit" ]]; then
        echo "missing $junit: apt-get install junit4"
        return 1
    fi
    kt="$KOTLIN_TEST_OUT/uniffi/ruhu_ffi/testsupport/ruhu_ffi.kt"
    fingerprint=$( (echo "kotlin $KOTLIN_VERSION"; cat "$kt") | sha256sum | cut -d' ' -f1)
    if [[ ! -f "$jar" || "$(cat "$jar.sha256" 2>/dev/null)" != "$fingerprint" ]]; then
        rm -f "$jar" "$jar.sha256"
        "$KOTLINC" "$kt" -classpath "$JNA_JAR" -d "$jar" -nowarn
        echo "$fingerprint" >"$jar.sha256"
    fi
    rm -rf "$classes"
    "$KOTLINC" "$ANDROID_TEST" -classpath "$JNA_JAR:$jar:$junit" -d "$classes" -nowarn
    RUHU_BIN_DIR="$TARGET/debug" java -Djna.library.path="$TARGET/debug" \
        -cp "$classes:$jar:$JNA_JAR:$junit:$hamcrest:$KOTLIN_HOME/lib/kotlin-stdlib.jar" \
        org.junit.runner.JUnitCore org.ruhu.core.FieldDayTest
}

if ((RUN_JVM_TESTS)); then
    check "$ANDROID_TEST compiled with kotlinc and run with JUnit 4 on the desktop JVM (not Gradle)" run_jvm_tests
fi

# --- what cannot run here -----------------------------------------------------------------------

cannot_run "Gradle build of android/ (no Android SDK, Gradle Android plugin or Gradle)"
cannot_run "cargo-ndk cross-compilation for arm64-v8a, armeabi-v7a, x86_64, x86 (no Android NDK)"
if ((RUN_JVM_TESTS)); then
    cannot_run "FieldDayTest under Gradle (testDebugUnitTest) and any instrumented test on a device or emulator"
else
    cannot_run "FieldDayTest as a JVM unit test (Gradle testDebugUnitTest; here only with --run-jvm-tests) and instrumented tests"
fi
cannot_run "Swift compilation of ios/ and the XCFramework build (no Swift toolchain, Xcode or Apple SDKs)"
cannot_run "XCTest FieldDayTests (swift test on a Mac, xcodebuild test on an iOS simulator)"

if ((failed)); then
    echo "check-mobile: failed: ${failed_names[*]}" >&2
fi
echo "mobile-packages: $passed passed, $failed failed, $warned warnings, $not_runnable not runnable here"
((failed == 0))
