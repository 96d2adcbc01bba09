#!/usr/bin/env bash
# Small filesystems for the disk-full tests: two ext4 images mounted with -o loop.
#
#   STATE_DIR/smallfs/mnt     48 MiB, FLEET_TEST_SMALLFS_DIR / FLEET_TEST_SMALLFS_BYTES: a source's
#                             archive dir (SourceDiskFullIT), a control plane's store (StoreDiskFullIT)
#   STATE_DIR/smallfs/target  48 MiB, FLEET_TEST_SMALLFS_TARGET_DIR / FLEET_TEST_SMALLFS_TARGET_BYTES:
#                             the data root of a target's own Docker engine (TargetDiskFullIT)
#
# Writes STATE_DIR/smallfs.env with those variables; each mount point is empty and writable.
#
#   bash scripts/ci/services/smallfs.sh up STATE_DIR     make and mount both (unmounts earlier ones first)
#   bash scripts/ci/services/smallfs.sh down STATE_DIR   unmount them and remove what it made
#
# Sizes: FLEET_SMALLFS_MIB and FLEET_SMALLFS_TARGET_MIB (default 48 each).
# Needs root, mkfs.ext4 (e2fsprogs) and two free loop devices.
set -euo pipefail

cmd=${1:?usage: smallfs.sh up|down STATE_DIR}
STATE_DIR=${2:?usage: smallfs.sh up|down STATE_DIR}
mkdir -p "$STATE_DIR"
STATE_DIR=$(cd "$STATE_DIR" && pwd)
DIR="$STATE_DIR/smallfs"
MNT="$DIR/mnt"
TARGET_MNT="$DIR/target"
SIZE_MIB=${FLEET_SMALLFS_MIB:-48}
TARGET_MIB=${FLEET_SMALLFS_TARGET_MIB:-48}

unmount() {
  local m=$1
  if mountpoint -q "$m" 2>/dev/null; then
    # anything a test left mounted below it (a Docker engine's overlay or private mounts) first
    if command -v findmnt >/dev/null; then
      { findmnt -rn -o TARGET | grep -F "$m/" || true; } | sort -r | while read -r sub; do
        umount -l "$sub" 2>/dev/null || true
      done
    fi
    umount "$m" 2>/dev/null || umount -l "$m" || true
  fi
}

down() {
  unmount "$TARGET_MNT"
  unmount "$MNT"
  rm -rf "$DIR" "$STATE_DIR/smallfs.env"
}

make_fs() {
  local img=$1 mnt=$2 mib=$3
  mkdir -p "$mnt"
  truncate -s "${mib}M" "$img"
  mkfs.ext4 -q -F -m 0 "$img"
  mount -o loop "$img" "$mnt"
  rmdir "$mnt/lost+found" 2>/dev/null || true
}

up() {
  command -v mkfs.ext4 >/dev/null || { echo "smallfs.sh: mkfs.ext4 not found (package e2fsprogs)" >&2; exit 1; }
  down
  make_fs "$DIR/fs.img" "$MNT" "$SIZE_MIB"
  make_fs "$DIR/target.img" "$TARGET_MNT" "$TARGET_MIB"
  {
    echo "export FLEET_TEST_SMALLFS_DIR=$MNT"
    echo "export FLEET_TEST_SMALLFS_BYTES=$((SIZE_MIB * 1024 * 1024))"
    echo "export FLEET_TEST_SMALLFS_TARGET_DIR=$TARGET_MNT"
    echo "export FLEET_TEST_SMALLFS_TARGET_BYTES=$((TARGET_MIB * 1024 * 1024))"
  } > "$STATE_DIR/smallfs.env"
  echo "fleet smallfs: ${SIZE_MIB} MiB ext4 on $MNT, ${TARGET_MIB} MiB ext4 on $TARGET_MNT"
}

case "$cmd" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down STATE_DIR" >&2; exit 2 ;;
esac
