package dev.fleet.migration.storage.cow;

import dev.fleet.migration.core.spi.Snapshotter;
import dev.fleet.migration.core.spi.VolumeLocation;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A {@link Snapshotter} of one kind of copy-on-write pool, plus what a node agent needs to find a
 * volume's subvolume or dataset and to place volumes on the pool. Threads: as {@link Snapshotter}.
 */
public interface PoolSnapshotter extends Snapshotter {

    PoolKind kind();

    /**
     * The root of the subvolume (btrfs) or the mountpoint of the dataset (ZFS) that holds
     * {@code path}, when {@code path} lives on a pool of this kind; empty otherwise. Read-only;
     * called by the agent's detection for each named volume's data path.
     */
    Optional<Path> holderOf(Path path);

    /**
     * Creates a new, empty subvolume or dataset shown at {@code at} (which must not exist; its
     * parent must be on a pool of this kind). Called on a target with a volume pool.
     */
    void createVolume(Path at);

    /**
     * Deletes the subvolume or dataset shown at {@code at} and everything in it; nothing when
     * nothing is there. Only ever called on what {@link #createVolume} or {@link #receive} made.
     */
    void destroyVolume(Path at);

    /** Drops what {@link #receive} kept at {@code destination} for later incremental streams. Idempotent. */
    void releaseReceived(VolumeLocation destination);

    /**
     * Like {@link #releaseReceived(VolumeLocation)}, but only what was received from snapshots whose
     * tag {@code tags} accepts: safe to run while another migration may be taking
     * snapshots of the same volume under tags of its own (on ZFS, received snapshots and a
     * source's snapshots live side by side on one dataset). Idempotent.
     */
    default void releaseReceived(VolumeLocation destination, java.util.function.Predicate<String> tags) {
        releaseReceived(destination);
    }
}
