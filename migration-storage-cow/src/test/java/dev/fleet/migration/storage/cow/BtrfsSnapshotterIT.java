package dev.fleet.migration.storage.cow;

import dev.fleet.migration.core.spi.Snapshotter;
import dev.fleet.migration.core.spi.VolumeLocation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;

@DisplayName("BtrfsSnapshotter on a loop-mounted btrfs")
class BtrfsSnapshotterIT extends CowSnapshotterChecks {
    private static Path dir;
    private static final BtrfsSnapshotter SNAPSHOTTER = new BtrfsSnapshotter(CowPools.NODE, Clock.systemUTC());

    @AfterAll
    static void dropPools() throws InterruptedException {
        CowPools.dropRuns();
    }

    @BeforeAll
    static void pool() {
        dir = CowPools.btrfsRunDir("checks");
    }

    @Override
    Snapshotter snapshotter() {
        return SNAPSHOTTER;
    }

    @Override
    VolumeLocation newVolume(String name) {
        return new VolumeLocation(name, CowPools.btrfsSubvolume(dir.resolve(name)));
    }

    @Override
    VolumeLocation newDestination(String name) {
        try {
            return new VolumeLocation(name, Files.createDirectories(dir.resolve("to-" + name)).resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    String inventory() {
        return CowPools.btrfsInventory();
    }

    @Override
    Path plainDirectoryOnPool() {
        try {
            return Files.createDirectories(dir.resolve(unique("plain")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    VolumeLocation volumeOnOtherPool() {
        String ds = CowPools.zfsDatasetAtRoot(unique("other"));
        return new VolumeLocation("other", CowPools.zfsMountpointOf(ds));
    }

    @Override
    void deleteVolume(VolumeLocation v) {
        CowPools.run("btrfs", "subvolume", "delete", "--", v.mountpoint().toString());
    }
}
