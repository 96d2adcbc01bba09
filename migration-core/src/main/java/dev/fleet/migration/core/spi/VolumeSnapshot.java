package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.Names;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;

/**
 * A read-only, point-in-time image of one volume.
 *
 * @param volume   the volume it was taken of
 * @param tag      the caller's name for it (the migration id and a suffix), unique per volume
 * @param path     a directory that shows the snapshot's tree, read-only
 * @param takenAt  when it was taken: an instant no later than the snapshot's own (read just
 *                 before the snapshot command), so a file whose times are at or after it may
 *                 have changed after the snapshot
 * @param backend  which snapshotter made it ({@code btrfs}, {@code zfs}, {@code copy})
 */
public record VolumeSnapshot(VolumeLocation volume, String tag, Path path, Instant takenAt, String backend) {
    public VolumeSnapshot {
        Objects.requireNonNull(volume, "volume");
        Names.require("tag", tag, Names.FILE_NAME, 128);
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(takenAt, "takenAt");
        Objects.requireNonNull(backend, "backend");
    }
}
