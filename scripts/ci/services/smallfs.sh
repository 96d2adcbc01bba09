#!/usr/bin/env bash
# A small filesystem for the disk-full tests: a 48 MiB ext4 image mounted with -o loop under
# STATE_DIR/smallfs/mnt. Writes STATE_DIR/smallfs.env with FLEET_TEST_SMALLFS_DIR (the mount
# point, empty and writable) and FLEET_TEST_SMALLFS_BYTES (its size).
#
#   bash scripts/ci/services/smallfs.sh up STATE_DIR     make and mount it (unmounts an earlier one first)
#   bash scripts/ci/services/smallfs.sh down STATE_DIR   unmount it and remove what it made
#
# Needs root, mkfs.ext4 (e2fsprogs) and a free loop device.
set -euo pipefail

cmd=${1:?usage: smallfs.sh up|down STATE_DIR}
STATE_DIR=${2:?usage: smallfs.sh up|down STATE_DIR}
mkdir -p "$STATE_DIR"
STATE_DIR=$(cd "$STATE_DIR" && pwd)
DIR="$STATE_DIR/smallfs"
MNT="$DIR/mnt"
SIZE_MIB=${FLEET_SMALLFS_MIB:-48}

down() {
  if mountpoint -q "$MNT" 2>/dev/null; then
    umount "$MNT" 2>/dev/null || umount -l "$MNT" || true
  fi
  rm -rf "$DIR" "$STATE_DIR/smallfs.env"
}

up() {
  command -v mkfs.ext4 >/dev/null || { echo "smallfs.sh: mkfs.ext4 not found (package e2fsprogs)" >&2; exit 1; }
  down
  mkdir -p "$MNT"
  truncate -s "${SIZE_MIB}M" "$DIR/fs.img"
  mkfs.ext4 -q -F -m 0 "$DIR/fs.img"
  mount -o loop "$DIR/fs.img" "$MNT"
  rmdir "$MNT/lost+found" 2>/dev/null || true
  {
    echo "export FLEET_TEST_SMALLFS_DIR=$MNT"
    echo "export FLEET_TEST_SMALLFS_BYTES=$((SIZE_MIB * 1024 * 1024))"
  } > "$STATE_DIR/smallfs.env"
  echo "fleet smallfs: ${SIZE_MIB} MiB ext4 on $MNT"
}

case "$cmd" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down STATE_DIR" >&2; exit 2 ;;
esac
