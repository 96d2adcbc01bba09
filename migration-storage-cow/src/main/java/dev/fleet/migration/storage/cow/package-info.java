/**
 * Atomic live snapshots and native send streams on copy-on-write pools: {@link
 * dev.fleet.migration.storage.cow.BtrfsSnapshotter} and {@link
 * dev.fleet.migration.storage.cow.ZfsSnapshotter}. Both spawn the pool's own program ({@code btrfs},
 * {@code zfs}) with argument lists, never a shell; every name that reaches a command line is checked
 * against an allow-list first ({@link dev.fleet.migration.storage.cow.internal.CowNames}).
 *
 * <p>Where things go, for both backends: a snapshot of the volume at {@code /x/vol} is shown
 * read-only at {@code /x/.fleet-snapshots/<volume>@<tag>}; a received volume lands at the
 * destination path, and what a later incremental receive needs is kept beside it (btrfs:
 * {@code /x/.fleet-received/<name>/}, ZFS: the received dataset's own snapshots).
 */
package dev.fleet.migration.storage.cow;
