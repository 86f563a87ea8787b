#!/usr/bin/env bash
# Starts and stops a moto_server (a local AWS API) on a free port of
# 127.0.0.1, for the demo and for tests.
#
#   scripts/moto.sh start STATE_DIR         start; write STATE_DIR/pid and STATE_DIR/endpoint
#   scripts/moto.sh stop STATE_DIR          stop the server whose PID is in STATE_DIR/pid
#   scripts/moto.sh bucket STATE_DIR NAME   create the S3 bucket NAME on that server
#
# The server's log is STATE_DIR/moto.log. Only bash and moto_server are
# needed: HTTP requests go through bash's /dev/tcp.
set -euo pipefail

die() { echo "moto.sh: $*" >&2; exit 1; }

# http_status HOSTPORT METHOD PATH prints the status code of one request.
http_status() {
  local hostport=$1 method=$2 path=$3 line
  exec 3<>"/dev/tcp/${hostport%:*}/${hostport#*:}" || return 1
  printf '%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' \
    "$method" "$path" "$hostport" >&3
  IFS=' ' read -r -t 5 _ line _ <&3 || true
  exec 3>&- 3<&-
  [ -n "$line" ] && echo "$line"
}

start() {
  local dir=$1 pid port=""
  mkdir -p "$dir"
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    die "a moto_server is already running with PID $(cat "$dir/pid")"
  fi
  command -v moto_server >/dev/null || die "moto_server is not on PATH (pip install 'moto[server]')"

  # Port 0 lets the kernel pick a free port; moto prints the one it got.
  moto_server -H 127.0.0.1 -p 0 >"$dir/moto.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/pid"

  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { cat "$dir/moto.log" >&2; die "moto_server exited"; }
    if [ -z "$port" ]; then
      port=$(sed -n 's|.*Running on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$dir/moto.log" |
        head -n 1)
    fi
    if [ -n "$port" ] && http_status "127.0.0.1:$port" GET /moto-api/ >/dev/null 2>&1; then
      echo "http://127.0.0.1:$port" >"$dir/endpoint"
      echo "moto_server running at http://127.0.0.1:$port (PID $pid)"
      return 0
    fi
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  die "moto_server did not answer within 30s; see $dir/moto.log"
}

stop() {
  local dir=$1 pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/pid" "$dir/endpoint"
}

bucket() {
  local dir=$1 name=$2 endpoint status
  endpoint=$(cat "$dir/endpoint" 2>/dev/null) || die "no moto_server started in $dir"
  status=$(http_status "${endpoint#http://}" PUT "/$name") || die "cannot reach $endpoint"
  [ "$status" = 200 ] || die "create bucket $name: HTTP status $status"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || die "usage: moto.sh start STATE_DIR"; start "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: moto.sh stop STATE_DIR"; stop "$2" ;;
  bucket) [ $# -eq 3 ] || die "usage: moto.sh bucket STATE_DIR NAME"; bucket "$2" "$3" ;;
  *) die "usage: moto.sh start|stop STATE_DIR, or moto.sh bucket STATE_DIR NAME" ;;
esac
