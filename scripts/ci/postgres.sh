#!/usr/bin/env bash
# A PostgreSQL for the test suite (CI, or a developer's Debian box), run as root.
#
# Uses a dedicated Debian cluster named "chute" (pg_createcluster / pg_ctlcluster) rather than the
# package's default "main" cluster: main may be down, running, reconfigured or holding real data, and
# 5432 (or 5433) may belong to something else. The chute cluster gets a free port once, keeps it in its
# config (a stable DATABASE_URL across runs) and moves only if that port is later taken.
# Tuned for throwaway data (fsync off): never point it at anything worth keeping.
#
# Ensures a superuser role chute/chute (the tests create and drop their own databases) and a database
# chute_test. Idempotent: rerun it any time.
# stdout: exactly one line:  DATABASE_URL=postgres://chute:chute@127.0.0.1:PORT/chute_test
set -euo pipefail
NAME=chute

log() { echo "[postgres] $*" >&2; }
die() { log "$*"; exit 1; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {  # from 15432 up: out of the kernel's ephemeral range, away from 5432/5433
  local p
  for p in $(seq 15432 15999); do port_busy "$p" || { echo "$p"; return 0; }; done
  die "no free port in 15432-15999"
}
[ "$(id -u)" = 0 ] || die "run as root (it manages a system PostgreSQL cluster)"

# ---------- packages ----------
if ! command -v pg_createcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "installing postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  aptlog=$(mktemp)
  apt_install() { apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends postgresql; }
  # refresh the package lists only if the install fails: they may be missing or stale
  apt_install >"$aptlog" 2>&1 || { apt-get update -q -o DPkg::Lock::Timeout=300 && apt_install; } >>"$aptlog" 2>&1 \
    || { tail -n 20 "$aptlog" >&2; die "apt-get install postgresql failed"; }
  rm -f "$aptlog"
fi

# ---------- the cluster: reuse, else create; columns: version name port status ... ----------
read -r VER _ PORT STATUS _ < <(pg_lsclusters -h | awk -v n="$NAME" '$2 == n' | head -n 1) || true
if [ -z "${VER:-}" ]; then
  VER=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
  PORT=$(free_port)
  log "creating cluster $VER/$NAME on port $PORT"
  pg_createcluster "$VER" "$NAME" -p "$PORT" --start-conf=manual >/dev/null
  STATUS=down
fi
# Settings go to conf.d (pg_createcluster -o gets the quoting of listen_addresses wrong), rewritten on
# every run so that a reused cluster picks up changes at its next start. ssl off: the snakeoil key may
# be missing or have the wrong mode on a bare image, and the tests need no TLS.
cat >"/etc/postgresql/$VER/$NAME/conf.d/chute-tests.conf" <<'EOF'
listen_addresses = '127.0.0.1'
ssl = off
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
if [ "$STATUS" != online ]; then
  if port_busy "$PORT"; then
    PORT=$(free_port)
    log "port taken by something else; moving cluster $VER/$NAME to $PORT"
    pg_conftool "$VER" "$NAME" set port "$PORT" >&2
  fi
  # pg_ctlcluster also recreates /var/run/postgresql, which a container without systemd may lack
  # its words ("Removed stale pid file.") go to stderr: on stdout the caller would read them as the URL
  pg_ctlcluster "$VER" "$NAME" start >&2 || die "could not start cluster $VER/$NAME (it printed why)"
fi

# ---------- role and database (as the postgres OS user, over the Unix socket: peer auth) ----------
psql_pg() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres "$@"; }
for _ in $(seq 1 50); do psql_pg -tAc 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done
psql_pg <<'SQL'
SELECT format('CREATE ROLE chute LOGIN SUPERUSER PASSWORD %L', 'chute')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'chute') \gexec
-- an existing role may have been altered: reset what the tests rely on
ALTER ROLE chute LOGIN SUPERUSER PASSWORD 'chute';
SELECT 'CREATE DATABASE chute_test OWNER chute'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'chute_test') \gexec
SQL

URL="postgres://chute:chute@127.0.0.1:$PORT/chute_test"
# prove the URL itself works: TCP and password, as the tests will connect
PGCONNECT_TIMEOUT=10 psql -X -q "$URL" -tAc 'select 1' >/dev/null || die "cannot connect with $URL"
echo "DATABASE_URL=$URL"
