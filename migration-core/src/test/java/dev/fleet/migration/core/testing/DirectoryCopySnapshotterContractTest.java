package dev.fleet.migration.core.testing;

import dev.fleet.migration.core.contract.SnapshotterContract;
import dev.fleet.migration.core.spi.Snapshotter;
import dev.fleet.migration.core.spi.VolumeLocation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.io.TempDir;

/** The Snapshotter kit proves itself against the reference copy implementation. */
class DirectoryCopySnapshotterContractTest extends SnapshotterContract {
    @TempDir
    Path pool;

    @Override
    protected Snapshotter snapshotter() {
        return new DirectoryCopySnapshotter(pool, Clock.systemUTC());
    }

    @Override
    protected VolumeLocation newVolume(String name) {
        try {
            return new VolumeLocation(name, Files.createDirectories(pool.resolve(name)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected VolumeLocation newDestination(String name) {
        return new VolumeLocation(name, pool.resolve(name));
    }
}
