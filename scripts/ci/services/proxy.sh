#!/usr/bin/env bash
# The two real reverse proxies the proxy-router tests drive, each a dedicated process on
# 127.0.0.1 with its config, state, pid and logs under STATE_DIR/proxy (never the system's
# /etc/caddy or /etc/nginx, never port 80 or Caddy's default admin port 2019):
#
#   - Caddy (Debian's caddy 2.6): admin API on a free port, one HTTP server "fleet" on another
#     free port with no routes yet (CaddyProxyRouter adds one route per app by @id);
#   - nginx (Debian's nginx): its own prefix and nginx.conf, listening on a free port, with a
#     default server answering 404 and an `include` of the directory NginxProxyRouter writes
#     one file per app into.
#
#   bash scripts/ci/services/proxy.sh up STATE_DIR     start both (stops earlier ones first)
#   bash scripts/ci/services/proxy.sh down STATE_DIR   stop both and remove what they made
#
# Writes STATE_DIR/proxy.env: FLEET_TEST_CADDY_ADMIN, FLEET_TEST_CADDY_HTTP,
# FLEET_TEST_CADDY_SERVER, FLEET_TEST_CADDY_BIN, FLEET_TEST_CADDY_CONFIG, FLEET_TEST_CADDY_PIDFILE,
# FLEET_TEST_CADDY_DIR (HOME/XDG dirs of the test Caddy, for a restart with --resume), FLEET_TEST_NGINX_HTTP,
# FLEET_TEST_NGINX_CONF_DIR, FLEET_TEST_NGINX_BIN, FLEET_TEST_NGINX_PREFIX, FLEET_TEST_NGINX_CONF.
set -euo pipefail

cmd=${1:?usage: proxy.sh up|down STATE_DIR}
STATE_DIR=${2:?usage: proxy.sh up|down STATE_DIR}
mkdir -p "$STATE_DIR"
STATE_DIR=$(cd "$STATE_DIR" && pwd)
DIR="$STATE_DIR/proxy"
CADDY_DIR="$DIR/caddy"
NGINX_DIR="$DIR/nginx"
CADDY_PIDFILE="$CADDY_DIR/caddy.pid"
NGINX_PIDFILE="$NGINX_DIR/logs/nginx.pid"
CADDY=${CADDY:-$(command -v caddy || echo /usr/bin/caddy)}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

stop_pid() {
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  # only the processes this script started, by the pids it recorded
  [ -f "$CADDY_PIDFILE" ] && stop_pid "$(cat "$CADDY_PIDFILE")"
  [ -f "$NGINX_PIDFILE" ] && stop_pid "$(cat "$NGINX_PIDFILE")"
  rm -rf "$DIR" "$STATE_DIR/proxy.env"
}

free_port() {
  python3 - 2>/dev/null <<'PY' || shuf -i 30000-39999 -n 1
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# waits until something answers HTTP on 127.0.0.1:$1 (deadline 10 s)
wait_http() {
  for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  return 1
}

start_caddy() {
  mkdir -p "$CADDY_DIR/data" "$CADDY_DIR/config" "$CADDY_DIR/home"
  local admin http
  admin=$(free_port)
  http=$(free_port)
  while [ "$http" = "$admin" ] || [ "$admin" = 2019 ]; do admin=$(free_port); done
  # automatic HTTPS off: the server speaks plain HTTP on a non-standard port and must never try
  # to obtain certificates; the config autosaves under STATE_DIR, so a restart with --resume comes back as it was
  cat > "$CADDY_DIR/caddy.json" <<JSON
{
  "admin": { "listen": "127.0.0.1:$admin" },
  "storage": { "module": "file_system", "root": "$CADDY_DIR/data" },
  "logging": { "logs": { "default": { "level": "WARN" } } },
  "apps": {
    "http": {
      "grace_period": "2s",
      "servers": {
        "fleet": {
          "listen": ["127.0.0.1:$http"],
          "automatic_https": { "disable": true },
          "routes": []
        }
      }
    }
  }
}
JSON
  # HOME and XDG_* point into STATE_DIR so nothing lands in root's home or /var/lib/caddy
  env HOME="$CADDY_DIR/home" XDG_DATA_HOME="$CADDY_DIR/data" XDG_CONFIG_HOME="$CADDY_DIR/config" \
    setsid "$CADDY" run --config "$CADDY_DIR/caddy.json" --pidfile "$CADDY_PIDFILE" \
    >"$CADDY_DIR/caddy.log" 2>&1 < /dev/null &
  for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$admin/config/" && break
    sleep 0.1
  done
  if ! curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$admin/config/" || ! wait_http "$http"; then
    echo "proxy.sh: caddy did not start; log:" >&2; cat "$CADDY_DIR/caddy.log" >&2 || true; return 1
  fi
  CADDY_ADMIN="127.0.0.1:$admin"
  CADDY_HTTP="127.0.0.1:$http"
}

start_nginx() {
  mkdir -p "$NGINX_DIR/logs" "$NGINX_DIR/routes" "$NGINX_DIR/tmp"
  local http
  http=$(free_port)
  while [ "$http" = "${CADDY_HTTP##*:}" ] || [ "$http" = "${CADDY_ADMIN##*:}" ]; do http=$(free_port); done
  cat > "$NGINX_DIR/nginx.conf" <<CONF
# fleet test nginx: everything under $NGINX_DIR; NginxProxyRouter writes routes/*.conf
daemon on;
worker_processes 1;
pid $NGINX_PIDFILE;
error_log $NGINX_DIR/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $NGINX_DIR/tmp/body;
  proxy_temp_path $NGINX_DIR/tmp/proxy;
  fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
  uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
  scgi_temp_path $NGINX_DIR/tmp/scgi;
  server {
    listen 127.0.0.1:$http default_server;
    server_name _;
    return 404;
  }
  include $NGINX_DIR/routes/*.conf;
}
CONF
  "$NGINX" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -t -q
  "$NGINX" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf"
  if ! wait_http "$http"; then
    echo "proxy.sh: nginx did not start; log:" >&2; cat "$NGINX_DIR/logs/error.log" >&2 || true; return 1
  fi
  NGINX_HTTP="127.0.0.1:$http"
}

case "$cmd" in
  down)
    stop
    ;;
  up)
    stop
    [ -x "$CADDY" ] || { echo "proxy.sh: caddy not found; run scripts/ci/install-packages.sh" >&2; exit 1; }
    [ -x "$NGINX" ] || { echo "proxy.sh: nginx not found; run scripts/ci/install-packages.sh" >&2; exit 1; }
    mkdir -p "$DIR"
    start_caddy
    start_nginx
    cat > "$STATE_DIR/proxy.env" <<ENV
export FLEET_TEST_CADDY_ADMIN=$CADDY_ADMIN
export FLEET_TEST_CADDY_HTTP=$CADDY_HTTP
export FLEET_TEST_CADDY_SERVER=fleet
export FLEET_TEST_CADDY_BIN=$CADDY
export FLEET_TEST_CADDY_CONFIG=$CADDY_DIR/caddy.json
export FLEET_TEST_CADDY_PIDFILE=$CADDY_PIDFILE
export FLEET_TEST_CADDY_DIR=$CADDY_DIR
export FLEET_TEST_NGINX_HTTP=$NGINX_HTTP
export FLEET_TEST_NGINX_CONF_DIR=$NGINX_DIR/routes
export FLEET_TEST_NGINX_BIN=$NGINX
export FLEET_TEST_NGINX_PREFIX=$NGINX_DIR
export FLEET_TEST_NGINX_CONF=$NGINX_DIR/nginx.conf
ENV
    echo "proxy.sh: caddy admin $CADDY_ADMIN, http $CADDY_HTTP; nginx http $NGINX_HTTP; variables in $STATE_DIR/proxy.env"
    ;;
  *)
    echo "usage: proxy.sh up|down STATE_DIR" >&2
    exit 2
    ;;
esac
