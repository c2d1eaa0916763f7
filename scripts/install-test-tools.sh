#!/usr/bin/env bash
# Installs what the binding tests need, if missing. Idempotent, non-interactive, runs as root
# on a fresh Debian machine (or as a user who already has the Debian packages).
#
#   - a JDK/JRE (`java`)                     Debian: default-jre-headless
#   - JNA (/usr/share/java/jna.jar)          Debian: libjna-java
#   - the Kotlin compiler (kotlinc)          npm: kotlin-compiler@$KOTLIN_VERSION into .tools/
#                                            (version pinned in scripts/tools.env)
#
# Prints one line per tool: "installed …" or "present …".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools.env
source "$ROOT/scripts/tools.env"
KOTLIN_PREFIX="$TOOLS_DIR/kotlin-compiler-$KOTLIN_VERSION"

export DEBIAN_FRONTEND=noninteractive

# --- Debian packages -----------------------------------------------------------------------
apt_missing=()
if ! command -v java >/dev/null 2>&1; then
    apt_missing+=(default-jre-headless)
else
    echo "present java: $(java -version 2>&1 | head -n1)"
fi
if [[ ! -f "$JNA_JAR" ]]; then
    apt_missing+=(libjna-java)
else
    echo "present libjna-java: $JNA_JAR"
fi
if ! command -v npm >/dev/null 2>&1; then
    apt_missing+=(npm)
fi

if ((${#apt_missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "error: need root to apt-get install ${apt_missing[*]}" >&2
        exit 1
    fi
    # apt-get update only when needed, and only once.
    if ! apt-get install -y -q --no-install-recommends "${apt_missing[@]}" >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y -q --no-install-recommends "${apt_missing[@]}" >/dev/null
    fi
    echo "installed (apt): ${apt_missing[*]}"
fi

# --- Kotlin compiler (npm package bundling the full JVM compiler) --------------------------
if [[ -x "$KOTLINC" ]]; then
    echo "present kotlin-compiler $KOTLIN_VERSION: $KOTLINC"
else
    # Install beside the final place, then rename: an interrupted install leaves no
    # half-populated compiler that a later run would take for present.
    staging="$KOTLIN_PREFIX.partial"
    rm -rf "$staging" "$KOTLIN_PREFIX"
    mkdir -p "$staging"
    npm install --prefix "$staging" --no-save --no-audit --no-fund --ignore-scripts \
        --loglevel=error "kotlin-compiler@$KOTLIN_VERSION" >/dev/null
    chmod +x "$staging/node_modules/kotlin-compiler/bin/"*
    mv "$staging" "$KOTLIN_PREFIX"
    echo "installed (npm): kotlin-compiler $KOTLIN_VERSION -> $KOTLINC"
fi
