#!/usr/bin/env bash
# Two real Docker engines on one machine: node "a" and node "b".
#
#   docker.sh up STATE_DIR    start both daemons, import the test image into each, and write
#                             STATE_DIR/docker.env (FLEET_TEST_DOCKER_A/B, FLEET_TEST_IMAGE,
#                             FLEET_TEST_ARCHIVE_A/B)
#   docker.sh down STATE_DIR  stop both daemons and remove everything they made
#
# Each daemon has its own data root, exec root, pid file, unix socket, config file and its own
# supervised containerd (under its exec root, in its own namespace), so the two never share
# state. No bridge, no iptables: test containers use --network host or none and listen on
# 127.0.0.1. Needs root and Debian's docker.io (dockerd at /usr/sbin/dockerd) and busybox-static.
set -euo pipefail

cmd=${1:-}
STATE_DIR=${2:-}
if [ -z "$cmd" ] || [ -z "$STATE_DIR" ]; then
  echo "usage: $0 up|down STATE_DIR" >&2
  exit 2
fi
mkdir -p "$STATE_DIR"
STATE_DIR=$(cd "$STATE_DIR" && pwd)
BASE="$STATE_DIR/docker"
NODES=(a b)
IMAGE=fleet-test/busybox:1
DOCKERD=${DOCKERD:-/usr/sbin/dockerd}
DOCKER=${DOCKER:-docker}

sock() { echo "$BASE/$1/docker.sock"; }
dk() { local n=$1; shift; "$DOCKER" -H "unix://$(sock "$n")" "$@"; }

start_daemon() {
  local n=$1 driver=$2 dir="$BASE/$1"
  mkdir -p "$dir/data" "$dir/exec" "$dir/archive"
  echo '{}' > "$dir/daemon.json"
  rm -f "$dir/docker.sock" "$dir/dockerd.pid"
  setsid "$DOCKERD" \
    --config-file "$dir/daemon.json" \
    --data-root "$dir/data" \
    --exec-root "$dir/exec" \
    --pidfile "$dir/dockerd.pid" \
    -H "unix://$dir/docker.sock" \
    --containerd-namespace "fleet-$n" \
    --containerd-plugins-namespace "fleet-$n-plugins" \
    --storage-driver "$driver" \
    --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    --userland-proxy=false --live-restore=false \
    >"$dir/dockerd.log" 2>&1 </dev/null &
  echo $! > "$dir/launcher.pid"
}

# Waits until `docker info` answers; fails fast when the daemon process is gone.
wait_daemon() {
  local n=$1 dir="$BASE/$1" pid
  pid=$(cat "$dir/launcher.pid")
  for _ in $(seq 1 120); do
    if timeout 10 "$DOCKER" -H "unix://$(sock "$n")" info >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.5
  done
  return 1
}

stop_daemon() {
  local n=$1 dir="$BASE/$1" pid=""
  [ -d "$dir" ] || return 0
  if [ -S "$dir/docker.sock" ]; then
    # stop containers first so no shim outlives the daemon
    local ids
    ids=$(timeout 20 "$DOCKER" -H "unix://$(sock "$n")" ps -aq 2>/dev/null || true)
    [ -n "$ids" ] && timeout 60 "$DOCKER" -H "unix://$(sock "$n")" rm -f $ids >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/dockerd.pid" ]; then pid=$(cat "$dir/dockerd.pid" 2>/dev/null || true); fi
  if [ -z "$pid" ] && [ -f "$dir/launcher.pid" ]; then pid=$(cat "$dir/launcher.pid" 2>/dev/null || true); fi
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  # the supervised containerd normally exits with dockerd; make sure this node's one did
  if [ -f "$dir/exec/containerd/containerd.pid" ]; then
    local cpid
    cpid=$(cat "$dir/exec/containerd/containerd.pid" 2>/dev/null || true)
    if [ -n "$cpid" ] && kill -0 "$cpid" 2>/dev/null; then
      kill -TERM "$cpid" 2>/dev/null || true
      sleep 1
      kill -0 "$cpid" 2>/dev/null && kill -KILL "$cpid" 2>/dev/null || true
    fi
  fi
  # leftover mounts (overlay layers, shm) under this node's roots, deepest first
  if command -v findmnt >/dev/null; then
    # no leftover mount is the usual case: grep then exits 1, which must not end the script
    { findmnt -rn -o TARGET | grep -F "$dir/" || true; } | sort -r | while read -r m; do
      umount -l "$m" 2>/dev/null || true
    done
  fi
  rm -rf "$dir"
}

build_rootfs() {
  local root="$BASE/rootfs"
  rm -rf "$root"
  mkdir -p "$root/bin" "$root/sbin" "$root/etc" "$root/tmp" "$root/var/www" "$root/data" "$root/root"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/data:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n' > "$root/etc/group"
  echo 'fleet test page' > "$root/var/www/index.html"
}

up() {
  if [ ! -x "$DOCKERD" ]; then
    echo "fleet docker: $DOCKERD not found; run scripts/ci/install-packages.sh (package docker.io)" >&2
    exit 1
  fi
  if [ ! -x /bin/busybox ]; then
    echo "fleet docker: /bin/busybox not found; run scripts/ci/install-packages.sh (package busybox-static)" >&2
    exit 1
  fi
  for n in "${NODES[@]}"; do stop_daemon "$n"; done
  mkdir -p "$BASE"
  local driver=""
  for n in "${NODES[@]}"; do
    local ok=""
    for d in ${driver:-overlay2 vfs}; do
      start_daemon "$n" "$d"
      if wait_daemon "$n"; then
        ok=$d
        break
      fi
      echo "fleet docker: node $n did not start with storage driver $d; see below" >&2
      tail -n 5 "$BASE/$n/dockerd.log" >&2 || true
      stop_daemon "$n"
      mkdir -p "$BASE"
    done
    if [ -z "$ok" ]; then
      echo "fleet docker: node $n did not start with any storage driver" >&2
      exit 1
    fi
    driver=$ok
    echo "fleet docker: node $n up on $(sock "$n") (storage driver $(dk "$n" info --format '{{.Driver}}'))"
  done
  build_rootfs
  for n in "${NODES[@]}"; do
    tar -C "$BASE/rootfs" -c . | dk "$n" import \
      --change 'CMD ["/bin/sh"]' --change 'WORKDIR /' --change 'ENV PATH=/bin:/sbin' - "$IMAGE" >/dev/null
  done
  rm -rf "$BASE/rootfs"
  {
    echo "export FLEET_TEST_DOCKER_A=unix://$(sock a)"
    echo "export FLEET_TEST_DOCKER_B=unix://$(sock b)"
    echo "export FLEET_TEST_IMAGE=$IMAGE"
    echo "export FLEET_TEST_ARCHIVE_A=$BASE/a/archive"
    echo "export FLEET_TEST_ARCHIVE_B=$BASE/b/archive"
  } > "$STATE_DIR/docker.env"
}

down() {
  for n in "${NODES[@]}"; do stop_daemon "$n"; done
  rm -rf "$BASE" "$STATE_DIR/docker.env"
}

case "$cmd" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down STATE_DIR" >&2; exit 2 ;;
esac
