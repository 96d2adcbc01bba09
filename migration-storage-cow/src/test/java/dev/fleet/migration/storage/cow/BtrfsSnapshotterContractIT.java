package dev.fleet.migration.storage.cow;

import dev.fleet.migration.core.contract.SnapshotterContract;
import dev.fleet.migration.core.spi.Snapshotter;
import dev.fleet.migration.core.spi.VolumeLocation;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;

@DisplayName("BtrfsSnapshotter passes the Snapshotter contract on a loop-mounted btrfs")
class BtrfsSnapshotterContractIT extends SnapshotterContract {
    private static Path dir;
    private static final Snapshotter SNAPSHOTTER = new BtrfsSnapshotter(CowPools.NODE, Clock.systemUTC());

    @AfterAll
    static void dropPools() throws InterruptedException {
        CowPools.dropRuns();
    }

    @BeforeAll
    static void pool() {
        dir = CowPools.btrfsRunDir("contract");
    }

    @Override
    protected Snapshotter snapshotter() {
        return SNAPSHOTTER;
    }

    @Override
    protected VolumeLocation newVolume(String name) {
        return new VolumeLocation(name, CowPools.btrfsSubvolume(dir.resolve(name)));
    }

    @Override
    protected VolumeLocation newDestination(String name) {
        return new VolumeLocation(name, dir.resolve(name));
    }
}
