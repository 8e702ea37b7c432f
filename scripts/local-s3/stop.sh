#!/usr/bin/env bash
# Stop what start.sh started and delete its folder. Safe to run twice, or when nothing runs.
# env: S3_DATA_DIR as given to start.sh, or, if start.sh chose the folder itself, S3_PORT (the port it printed)
#      S3_KEEP_DATA=1 keeps the folder (its log/ explains a failure)
set -uo pipefail  # no -e: stop as much as possible even if one step fails
TMP="${TMPDIR:-/tmp}"

DATA="${S3_DATA_DIR:-}"
if [ -z "$DATA" ] && [ -n "${S3_PORT:-}" ]; then
  # start.sh records the port it ended up using, since with S3_PORT=0 the folder name cannot say it
  for f in "$TMP"/chute-s3-*/s3_port; do
    [ "$(cat "$f" 2>/dev/null)" = "$S3_PORT" ] && { DATA=$(dirname "$f"); break; }
  done
fi
[ -n "$DATA" ] || { echo "[local-s3] no instance of port ${S3_PORT:-?} in $TMP/chute-s3-*; set S3_DATA_DIR" >&2; exit 2; }
DATA=$(realpath -m "$DATA")
# (an empty folder is what a start that failed its argument checks leaves behind)
[ -d "$DATA/run" ] || { rmdir "$DATA" 2>/dev/null; echo "[local-s3] nothing to stop in $DATA" >&2; exit 0; }

pid_of() {  # PID of daemon $1, only if alive and started from this folder (PIDs get recycled)
  local pid
  pid=$(cat "$DATA/run/$1.pid" 2>/dev/null) || return 0
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$DATA/ceph.conf" && echo "$pid"
}
alive() {  # an exited daemon not yet reaped (zombie) counts as stopped
  kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
stop_pid() {  # SIGTERM, up to 10 s grace, then SIGKILL
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 1 200); do alive "$1" || return 0; sleep 0.05; done
  kill -KILL "$1" 2>/dev/null
}

# Read every PID first: a daemon deletes its pid file as it exits.
rgw=$(pid_of client.rgw.a) osd=$(pid_of osd.0) mon=$(pid_of mon.a)
# Order matters: a radosgw whose osd is gone waits rgw_exit_timeout_secs (120 s) before exiting, and
# an osd whose monitor is gone takes seconds. In this order each stops in well under a second.
stop_pid "$rgw"; stop_pid "$osd"; stop_pid "$mon"
[ -n "${S3_KEEP_DATA:-}" ] || rm -rf "$DATA"
echo "[local-s3] stopped ($DATA)" >&2
