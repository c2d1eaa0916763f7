#!/usr/bin/env bash
# Installs the PouchDB peer of the sync benchmark (npm pouchdb@9, pouchdb-server@4.2) into
# .tools/pouchdb if missing. No install scripts run (leveldown ships prebuilt binaries).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="$ROOT/.tools/pouchdb"
if [[ -f "$DIR/node_modules/pouchdb-server/bin/pouchdb-server" && -d "$DIR/node_modules/pouchdb" ]]; then
    echo "present pouchdb + pouchdb-server: $DIR"
    exit 0
fi
mkdir -p "$DIR"
npm install --prefix "$DIR" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
    pouchdb@9 pouchdb-server@4.2 >/dev/null
echo "installed pouchdb + pouchdb-server: $DIR"
