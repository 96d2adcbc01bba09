package dev.fleet.migration.core.spi;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;

/**
 * Takes atomic snapshots of volumes on a node's storage. Implementations: btrfs, ZFS, and the
 * Docker fallback (a live copy behind a change fence). Each passes {@code SnapshotterContract}
 * in core's test-jar. Programs are spawned with argument lists; names are validated first.
 *
 * <p>Threads: safe for concurrent use on different volumes.
 */
public interface Snapshotter {

    /** A short name: {@code btrfs}, {@code zfs}, {@code copy}. */
    String name();

    /**
     * True when this snapshotter can snapshot the volume atomically (its data lives on a
     * subvolume or dataset of this kind). Called by the agent's preflight and snapshot for each
     * named volume; the first snapshotter that answers true is used. Read-only.
     */
    boolean supports(VolumeLocation volume);

    /**
     * Takes a read-only snapshot without stopping or pausing the app. Called at the start of
     * SNAPSHOTTING (the full image) and in CUTOVER after the source stopped (the final image).
     *
     * @throws dev.fleet.migration.core.NodeOperationException when the backend refuses
     */
    VolumeSnapshot snapshot(VolumeLocation volume, String tag);

    /**
     * Writes a native send stream of {@code snapshot}: incremental against {@code parent} when
     * given (only what changed, deletions included), full otherwise. Streams in constant memory.
     */
    void send(VolumeSnapshot snapshot, Optional<VolumeSnapshot> parent, OutputStream out);

    /**
     * Receives a stream written by {@link #send} into {@code destination}: a full stream creates
     * it, an incremental one updates it (it must hold the parent). On failure nothing partial is
     * left behind: no half-received subvolume, dataset or directory.
     */
    void receive(InputStream in, VolumeLocation destination);

    /** Removes a snapshot; idempotent. Called when the migration ends, whichever way it ends. */
    void release(VolumeSnapshot snapshot);
}
