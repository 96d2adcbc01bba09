package dev.fleet.migration.storage.cow;

import dev.fleet.migration.core.contract.SnapshotterContract;
import dev.fleet.migration.core.spi.Snapshotter;
import dev.fleet.migration.core.spi.VolumeLocation;
import java.time.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;

@DisplayName("ZfsSnapshotter passes the Snapshotter contract on a zfs-fuse pool")
class ZfsSnapshotterContractIT extends SnapshotterContract {
    private static String dataset;
    private static final Snapshotter SNAPSHOTTER = new ZfsSnapshotter(CowPools.NODE, Clock.systemUTC());

    @AfterAll
    static void dropPools() throws InterruptedException {
        CowPools.dropRuns();
    }

    @BeforeAll
    static void pool() {
        dataset = CowPools.zfsRunDataset("contract");
    }

    @Override
    protected Snapshotter snapshotter() {
        return SNAPSHOTTER;
    }

    @Override
    protected VolumeLocation newVolume(String name) {
        CowPools.run("zfs", "create", "--", dataset + "/" + name);
        return new VolumeLocation(name, CowPools.zfsMountpointOf(dataset + "/" + name));
    }

    @Override
    protected VolumeLocation newDestination(String name) {
        return new VolumeLocation(name, CowPools.zfsMountpointOf(dataset).resolve(name));
    }
}
