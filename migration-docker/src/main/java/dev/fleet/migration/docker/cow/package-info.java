/**
 * The node agent's use of btrfs and ZFS pools: {@link dev.fleet.migration.docker.cow.VolumeBackend}
 * finds where each named volume lives, {@link dev.fleet.migration.docker.cow.CowStorage} is the
 * agent's entry point (source snapshots, target volume pool, native streams), and
 * {@link dev.fleet.migration.docker.cow.SourceSession} owns one migration's snapshots from the
 * change fence until the final delta is sent or the migration is compensated. The snapshots,
 * send and receive themselves are migration-storage-cow's.
 */
package dev.fleet.migration.docker.cow;
