#!/usr/bin/env bash
# Throwaway single-node Ceph RADOS Gateway (a real S3 API) on 127.0.0.1, for `npm test` and CI.
#
# Why Ceph and not a fake: RGW enforces what AWS S3 enforces (POST policy signature, expiry,
# content-length-range, presigned URL signatures, CORS, 5 MiB minimum part size); the npm fakes
# accept what S3 would refuse, so tests of the refusals would pass for the wrong reason.
#
# One ceph-mon + one ceph-osd + one radosgw (Debian 12: Ceph 16.2), no mgr, no cephx, everything in
# one temp folder. Installs the Debian packages with apt-get when they are missing.
#
# env (all optional):
#   S3_PORT           S3 port on 127.0.0.1; 0 = pick a free one                 (default 0)
#   S3_ACCESS_KEY     access key of the one S3 user                              (default localtest)
#   S3_SECRET_KEY     its secret key                                             (default localtest-secret)
#   S3_DATA_DIR       folder for config, data, logs, pids; it is wiped first
#                     (default ${TMPDIR:-/tmp}/chute-s3-$S3_PORT, or a new chute-s3-XXXXXX if S3_PORT=0)
#   S3_CEPH_STORE     bluestore (sparse 8 GiB file, less RAM) | memstore (RAM)   (default bluestore)
#   S3_START_TIMEOUT  seconds to wait for each step                              (default 120)
#   S3_VERBOSE=1      progress on stderr
#
# stdout: exactly one line, when S3 answers:  S3_ENDPOINT=http://127.0.0.1:PORT
# Clients must use path-style addressing (forcePathStyle: true) and region us-east-1 (with any other
# region the AWS SDK sends a LocationConstraint on CreateBucket, which RGW refuses).
# Stop it with stop.sh and the same S3_DATA_DIR (or the S3_PORT it printed).
set -euo pipefail

PORT="${S3_PORT:-0}"
AK="${S3_ACCESS_KEY:-localtest}"
SK="${S3_SECRET_KEY:-localtest-secret}"
STORE="${S3_CEPH_STORE:-bluestore}"
TIMEOUT="${S3_START_TIMEOUT:-120}"
TMP="${TMPDIR:-/tmp}"
T0=$SECONDS

log() { [ -z "${S3_VERBOSE:-}" ] || echo "[local-s3 +$((SECONDS - T0))s] $*" >&2; }
die() { echo "[local-s3] $*" >&2; exit 1; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A random free port below the kernel's ephemeral range: ports from that range are what the kernel
# hands to `listen(0)` test servers and outgoing connections, so staying out of it avoids racing them.
# (Well-known fixed ports such as 9000 or the Ceph default 3300 are often taken on shared machines.)
pick_port() {
  local eph_lo lo=10000 hi p
  read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range
  hi=$((eph_lo - 1)); [ "$hi" -gt $((lo + 1000)) ] || hi=65535
  for _ in $(seq 1 100); do
    p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
    port_busy "$p" || { echo "$p"; return 0; }
  done
  die "no free port found in $lo-$hi"
}

case "$STORE" in bluestore|memstore) ;; *) die "S3_CEPH_STORE must be bluestore or memstore";; esac
case "$PORT" in ''|*[!0-9]*) die "S3_PORT must be a number (0 = any free port)";; esac
if [ "$PORT" != 0 ] && port_busy "$PORT"; then die "127.0.0.1:$PORT is already in use"; fi

# ---------- packages: only when missing (a CI image may already have them) ----------
missing=0
for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool ceph-authtool curl; do
  command -v "$b" >/dev/null 2>&1 || missing=1
done
if [ "$missing" = 1 ]; then
  log "installing radosgw ceph-mon ceph-osd curl (apt-get)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  aptlog=$(mktemp "$TMP/chute-s3-apt.XXXXXX")
  apt_install() { $SUDO apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends radosgw ceph-mon ceph-osd curl; }
  # refresh the package lists only if the install fails: they may be missing or stale
  apt_install >"$aptlog" 2>&1 || { $SUDO apt-get update -q -o DPkg::Lock::Timeout=300 && apt_install; } >>"$aptlog" 2>&1 \
    || { tail -n 20 "$aptlog" >&2; die "apt-get install failed"; }
  rm -f "$aptlog"
fi

# ---------- data folder ----------
if [ -n "${S3_DATA_DIR:-}" ]; then DATA="$S3_DATA_DIR"
elif [ "$PORT" != 0 ]; then DATA="$TMP/chute-s3-$PORT"
else DATA=$(mktemp -d "$TMP/chute-s3-XXXXXX")
fi
DATA=$(realpath -m "$DATA")  # daemons chdir to /; relative paths would break
CONF="$DATA/ceph.conf"

owns() {  # does PID $1 run with this folder's ceph.conf? (guards against recycled PIDs)
  tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$CONF"
}
for f in "$DATA"/run/*.pid; do
  [ -s "$f" ] && owns "$(cat "$f")" && die "already running from $DATA; run stop.sh first"
done

rm -rf "$DATA"
mkdir -p "$DATA"/{mon.a,osd.0,log,run,rgw}
FSID=$(cat /proc/sys/kernel/random/uuid)
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
STORE_BYTES=$((8 * 1024 * 1024 * 1024))

write_conf() {  # $1 = monitor port
  cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon_host = v2:127.0.0.1:$1
mon_initial_members = a
public_addr = 127.0.0.1
public_network = 127.0.0.0/8
# no cephx: loopback only, thrown away after the run
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# radosgw otherwise insists on "secure" mode to the monitor, which needs cephx: it hangs 300 s
ms_mon_client_mode = crc secure
ms_bind_msgr1 = false
ms_bind_msgr2 = true
run_dir = $DATA/run
admin_socket = $DATA/run/\$name.asok
pid_file = $DATA/run/\$name.pid
log_file = $DATA/log/\$name.log
keyring = $DATA/keyring
# a single OSD holds the single copy of everything
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
# a nearly full disk must not stop the monitor during a test run
mon_data_avail_crit = 0
mon_data_avail_warn = 1
# commit monitor changes (the rgw pools) without the default 1 s batching: starts seconds sooner
paxos_propose_interval = 0.05
[mon.a]
mon_data = $DATA/mon.a
# a taken port must fail at once (default: 3 tries 5 s apart) so that another port can be tried
ms_bind_retry_count = 1
[osd.0]
osd_data = $DATA/osd.0
osd_objectstore = $STORE
memstore_device_bytes = $STORE_BYTES
bluestore_block_path = $DATA/osd.0/block.file
bluestore_block_create = true
bluestore_block_size = $STORE_BYTES
osd_memory_target = 1073741824
# start time 6-8 s -> ~3 s: every aio shutdown/setup step otherwise waits out a 250 ms poll, each op
# shard costs such a step (2 shards are plenty for a test), and a fresh store needs no fsck
bdev_aio_poll_ms = 10
osd_op_num_shards = 2
bluestore_fsck_on_mkfs = false
[client.rgw.a]
rgw_data = $DATA/rgw
# reclaim the space of deleted objects within a minute instead of hours
rgw_gc_obj_min_wait = 30
rgw_gc_processor_period = 60
EOF
}

on_error() {  # stop (by PID) whatever this run started; keep $DATA for its logs
  local n p
  echo "[local-s3] start failed; logs in $DATA/log" >&2
  for n in setup client.rgw.a osd.0 mon.a; do
    [ ! -f "$DATA/log/$n.log" ] || { echo "--- $n.log (tail)" >&2; tail -n 5 "$DATA/log/$n.log" >&2; }
  done
  for n in client.rgw.a osd.0 mon.a; do
    p=$(cat "$DATA/run/$n.pid" 2>/dev/null || true)
    if [ -n "$p" ] && owns "$p"; then kill "$p" 2>/dev/null || true; fi
  done
}
trap on_error ERR
trap 'on_error; exit 130' INT TERM  # e.g. a test runner giving up: leave no daemons behind

wait_pid_file() {  # $1 = daemon name; daemons write it once they have forked into the background
  for _ in $(seq 1 100); do [ -s "$DATA/run/$1.pid" ] && return 0; sleep 0.1; done
  echo "[local-s3] $1 did not write its pid file" >&2; return 1
}

# ---------- monitor: a free port is only known to be free once bound, so retry on a clash ----------
for attempt in 1 2 3 4 5; do
  MON_PORT=$(pick_port)
  write_conf "$MON_PORT"
  rm -rf "$DATA/mon.a" "$DATA/keyring"
  monmaptool --create --clobber --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DATA/monmap" >/dev/null
  ceph-authtool --create-keyring "$DATA/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DATA/monmap" --keyring "$DATA/keyring" >>"$DATA/log/setup.log" 2>&1
  log "monitor on v2:127.0.0.1:$MON_PORT"
  # ceph-mon binds before it forks, so a taken port shows up as a non-zero exit right here
  if ceph-mon -c "$CONF" -i a >>"$DATA/log/setup.log" 2>&1; then break; fi
  grep -q 'unable to bind' "$DATA/log/mon.a.log" 2>/dev/null && [ "$attempt" -lt 5 ] || false
  log "monitor port $MON_PORT was taken meanwhile; trying another"
  mv "$DATA/log/mon.a.log" "$DATA/log/mon.a.log.$attempt"
done
wait_pid_file mon.a

# ---------- OSD: it picks its own free ports (6800-7300) ----------
log "osd ($STORE)"
timeout "$TIMEOUT" ceph -c "$CONF" osd new "$OSD_UUID" >>"$DATA/log/setup.log" 2>&1
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >>"$DATA/log/setup.log" 2>&1
ceph-osd -c "$CONF" -i 0 >>"$DATA/log/setup.log" 2>&1
wait_pid_file osd.0

log "S3 user $AK (creates the rgw pools, so it waits for the osd)"
timeout "$TIMEOUT" radosgw-admin -c "$CONF" user create --uid="$AK" --display-name="$AK" \
  --access-key="$AK" --secret-key="$SK" >"$DATA/log/user.json" 2>>"$DATA/log/setup.log"

# ---------- radosgw: binds after forking, so a port clash shows up as the daemon dying ----------
want_port="$PORT"
for attempt in 1 2 3 4 5; do
  [ "$want_port" != 0 ] || PORT=$(pick_port)
  log "radosgw on 127.0.0.1:$PORT"
  rm -f "$DATA/run/client.rgw.a.pid"
  radosgw -c "$CONF" -n client.rgw.a --rgw-frontends "beast endpoint=127.0.0.1:$PORT tcp_nodelay=1" >>"$DATA/log/setup.log" 2>&1
  wait_pid_file client.rgw.a
  pid=$(cat "$DATA/run/client.rgw.a.pid") deadline=$((SECONDS + TIMEOUT)) up=0
  while owns "$pid" && [ $SECONDS -lt $deadline ]; do
    # check the body, not just the status: something else may have grabbed the port
    case "$(curl -s -m 2 "http://127.0.0.1:$PORT/" || true)" in *ListAllMyBucketsResult*) up=1; break;; esac
    sleep 0.1
  done
  [ "$up" = 0 ] || break
  # retry only a lost race for a port we picked ourselves; anything else is a real failure
  ! owns "$pid" && [ "$want_port" = 0 ] && [ "$attempt" -lt 5 ] \
    && grep -q 'already in use' "$DATA/log/client.rgw.a.log" 2>/dev/null \
    || { echo "[local-s3] radosgw did not answer on 127.0.0.1:$PORT" >&2; false; }
  log "S3 port $PORT was taken meanwhile; trying another"
  mv "$DATA/log/client.rgw.a.log" "$DATA/log/client.rgw.a.log.$attempt"
done
trap - ERR INT TERM
echo "$PORT" >"$DATA/s3_port"  # lets stop.sh find this folder from the port alone
log "ready in $((SECONDS - T0))s (data: $DATA)"
echo "S3_ENDPOINT=http://127.0.0.1:$PORT"
