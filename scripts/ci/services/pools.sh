#!/usr/bin/env bash
# Copy-on-write pools for the migration-storage-cow tests: a btrfs filesystem on a sparse file
# mounted with -o loop, and a zfs-fuse pool on another sparse file. Writes STATE_DIR/pools.env
# with the FLEET_TEST_BTRFS_* and FLEET_TEST_ZFS_* variables the *IT tests read.
#
#   bash scripts/ci/services/pools.sh up STATE_DIR     make both (removes leftovers of an earlier run first)
#   bash scripts/ci/services/pools.sh down STATE_DIR   destroy both and remove what it made
#
# Size of each backing file: FLEET_TEST_POOL_SIZE (default 3G; files are sparse, so only what the
# tests write takes disk space). The benchmark's 4 GiB volumes need FLEET_TEST_POOL_SIZE=12G.
# Needs root (loop mounts, FUSE, the zfs-fuse daemon).
set -euo pipefail

cmd=${1:?usage: pools.sh up|down STATE_DIR}
STATE_DIR=${2:?usage: pools.sh up|down STATE_DIR}
DIR="$STATE_DIR/pools"
SIZE=${FLEET_TEST_POOL_SIZE:-3G}
POOL=fleettest
BTRFS_IMG="$DIR/btrfs.img"
BTRFS_MNT="$DIR/btrfs"
ZFS_IMG="$DIR/zfs.img"
ZFS_MNT="$DIR/zfs"
ZFS_PIDFILE="$DIR/zfs-fuse.pid"
ZPOOL=$(command -v zpool || echo /sbin/zpool)
ZFS=$(command -v zfs || echo /usr/sbin/zfs)
ZFS_FUSE=/usr/sbin/zfs-fuse

log() { echo "pools.sh: $*" >&2; }

zfs_daemon_answers() { "$ZPOOL" list -H -o name >/dev/null 2>&1; }

our_daemon_pid() {
  [ -s "$ZFS_PIDFILE" ] || return 1
  local pid
  pid=$(cat "$ZFS_PIDFILE")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q zfs-fuse "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

# every mount at or below $1, deepest first
mounts_below() {
  awk -v d="$1" '{ m=$5; gsub(/\\040/, " ", m); if (m == d || index(m, d "/") == 1) print m }' /proc/self/mountinfo \
    | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-
}

stop() {
  # 1. the pool (needs the daemon), then the daemon if we started it
  if zfs_daemon_answers && "$ZPOOL" list -H -o name "$POOL" >/dev/null 2>&1; then
    "$ZPOOL" destroy -f "$POOL" 2>/dev/null || "$ZPOOL" export -f "$POOL" 2>/dev/null \
      || log "could not destroy pool $POOL"
  fi
  local pid
  if pid=$(our_daemon_pid); then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # 2. whatever is still mounted below our directory (a crashed daemon leaves dead FUSE mounts)
  local m
  while IFS= read -r m; do
    [ -n "$m" ] || continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done < <(mounts_below "$DIR")
  # 3. loop devices backed by our image, and the files
  if [ -e "$BTRFS_IMG" ]; then
    local dev
    for dev in $(losetup -j "$BTRFS_IMG" -O NAME -n 2>/dev/null); do
      losetup -d "$dev" 2>/dev/null || log "could not detach $dev"
    done
  fi
  rm -rf "$DIR" "$STATE_DIR/pools.env"
}

case "$cmd" in
  down)
    stop
    ;;
  up)
    [ "$(id -u)" -eq 0 ] || { log "needs root (loop mounts, FUSE, zfs-fuse)"; exit 1; }
    for p in mkfs.btrfs btrfs losetup "$ZPOOL" "$ZFS" "$ZFS_FUSE"; do
      command -v "$p" >/dev/null 2>&1 || { log "$p not found; run scripts/ci/install-packages.sh"; exit 1; }
    done
    stop
    mkdir -p "$DIR" "$BTRFS_MNT"

    # --- btrfs on a loop-mounted sparse file
    grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null || true
    grep -qw btrfs /proc/filesystems || { log "this kernel has no btrfs (not in /proc/filesystems)"; exit 1; }
    truncate -s "$SIZE" "$BTRFS_IMG"
    mkfs.btrfs -q -f -L fleettest "$BTRFS_IMG" >/dev/null
    mount -o loop -t btrfs "$BTRFS_IMG" "$BTRFS_MNT"
    mkdir -p "$BTRFS_MNT/it"

    # --- zfs-fuse pool on a sparse file
    [ -e /dev/fuse ] || modprobe fuse 2>/dev/null || true
    [ -e /dev/fuse ] || { log "no /dev/fuse: this kernel or container has no FUSE, zfs-fuse cannot run"; exit 1; }
    if ! zfs_daemon_answers; then
      mkdir -p /var/run/zfs /var/lock/zfs
      "$ZFS_FUSE" --pidfile "$ZFS_PIDFILE" --no-kstat-mount
      for _ in $(seq 1 100); do zfs_daemon_answers && break; sleep 0.1; done
      zfs_daemon_answers || { log "zfs-fuse did not start (see syslog / run $ZFS_FUSE --no-daemon)"; exit 1; }
    else
      log "using the zfs-fuse daemon that is already running"
    fi
    # a pool of this name left by a crashed run (e.g. remembered in zpool.cache): remove it
    if "$ZPOOL" list -H -o name "$POOL" >/dev/null 2>&1; then
      "$ZPOOL" destroy -f "$POOL" 2>/dev/null || "$ZPOOL" export -f "$POOL" 2>/dev/null || true
    fi
    truncate -s "$SIZE" "$ZFS_IMG"
    # cachefile=none: the pool is never re-imported by a later daemon start from zpool.cache
    "$ZPOOL" create -f -o cachefile=none -m "$ZFS_MNT" "$POOL" "$ZFS_IMG" 2>&1 \
      | grep -v 'Defaulting to 4K blocksize' >&2 || true
    "$ZPOOL" list -H -o name "$POOL" >/dev/null || { log "zpool create $POOL failed"; exit 1; }
    "$ZFS" create "$POOL/it"
    mountpoint -q "$ZFS_MNT/it" || { log "dataset $POOL/it is not mounted at $ZFS_MNT/it"; exit 1; }

    cat > "$STATE_DIR/pools.env" <<ENV
export FLEET_TEST_BTRFS_MOUNT=$BTRFS_MNT
export FLEET_TEST_BTRFS_ROOT=$BTRFS_MNT/it
export FLEET_TEST_ZFS_POOL=$POOL/it
export FLEET_TEST_ZFS_MOUNTPOINT=$ZFS_MNT/it
ENV
    log "btrfs at $BTRFS_MNT ($(losetup -j "$BTRFS_IMG" -O NAME -n | head -1)), zfs-fuse pool $POOL at $ZFS_MNT ($SIZE each, sparse); variables in $STATE_DIR/pools.env"
    ;;
  *)
    echo "usage: pools.sh up|down STATE_DIR" >&2
    exit 2
    ;;
esac
