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
import org.junit.jupiter.api.Test;

@DisplayName("ZfsSnapshotter on a zfs-fuse pool")
class ZfsSnapshotterIT extends CowSnapshotterChecks {
    private static String dataset;
    private static final ZfsSnapshotter SNAPSHOTTER = new ZfsSnapshotter(CowPools.NODE, Clock.systemUTC());

    @AfterAll
    static void dropPools() throws InterruptedException {
        CowPools.dropRuns();
    }

    @BeforeAll
    static void pool() {
        dataset = CowPools.zfsRunDataset("checks");
    }

    @Override
    Snapshotter snapshotter() {
        return SNAPSHOTTER;
    }

    @Override
    VolumeLocation newVolume(String name) {
        CowPools.run("zfs", "create", "--", dataset + "/" + name);
        return new VolumeLocation(name, CowPools.zfsMountpointOf(dataset + "/" + name));
    }

    @Override
    VolumeLocation newDestination(String name) {
        // a dataset of its own as the destination's directory, so leftovers are easy to see
        String parent = dataset + "/to-" + name;
        CowPools.run("zfs", "create", "--", parent);
        return new VolumeLocation(name, CowPools.zfsMountpointOf(parent).resolve(name));
    }

    @Override
    String inventory() {
        return CowPools.zfsInventory();
    }

    @Override
    Path plainDirectoryOnPool() {
        try {
            return Files.createDirectories(CowPools.zfsMountpointOf(dataset).resolve(unique("plain")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    VolumeLocation volumeOnOtherPool() {
        Path sub = CowPools.btrfsSubvolumeAtRoot(unique("other"));
        return new VolumeLocation("other", sub);
    }

    @Override
    void deleteVolume(VolumeLocation v) throws InterruptedException {
        String ds = SNAPSHOTTER.datasetAt(v.mountpoint()).orElseThrow();
        for (int i = 0; ; i++) { // a FUSE mount stays busy for a moment after its files are closed
            try {
                CowPools.run("zfs", "destroy", "-r", "--", ds);
                return;
            } catch (RuntimeException e) {
                if (i > 30) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    @Test
    @DisplayName("on ZFS even buffered writes (no O_DSYNC) in lockstep are captured at one instant")
    void bufferedLockstepWritesAreCapturedAtOneInstant() throws Exception {
        lockstep(false);
    }
}
