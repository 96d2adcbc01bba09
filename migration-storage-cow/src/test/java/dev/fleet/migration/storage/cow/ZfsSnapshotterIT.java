package dev.fleet.migration.storage.cow;

import dev.fleet.migration.core.spi.Snapshotter;
import dev.fleet.migration.core.spi.VolumeLocation;
import dev.fleet.migration.core.spi.VolumeSnapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

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
    @DisplayName("dropping what a receive kept leaves a later migration's own snapshots of the volume alone")
    void releasingReceivedBasesSparesOtherSnapshots() throws Exception {
        VolumeLocation src = newVolume(unique("keep-src"));
        VolumeLocation dst = newDestination(unique("keep-dst"));
        VolumeSnapshot sent = SNAPSHOTTER.snapshot(src, "m-1-first");
        VolumeSnapshot later = null;
        try {
            Files.writeString(src.mountpoint().resolve("a.txt"), "one");
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            SNAPSHOTTER.send(sent, java.util.Optional.empty(), out);
            SNAPSHOTTER.receive(new java.io.ByteArrayInputStream(out.toByteArray()), dst);
            String ds = SNAPSHOTTER.datasetAt(dst.mountpoint()).orElseThrow();
            // the volume has landed; a migration of it onward (m-1-2, whose id starts like m-1's)
            // snapshots it while the bases of m-1 are dropped
            later = SNAPSHOTTER.snapshot(dst, "m-1-2-first");
            assertThat(snapshotsOf(ds)).contains(ds + "@m-1-first", ds + "@m-1-2-first");

            SNAPSHOTTER.releaseReceived(dst, tag -> tag.equals("m-1-first") || tag.equals("m-1-final"));

            assertThat(snapshotsOf(ds)).as("m-1's received base gone, m-1-2's snapshot kept")
                    .doesNotContain(ds + "@m-1-first").contains(ds + "@m-1-2-first");
            SNAPSHOTTER.releaseReceived(dst, tag -> tag.equals("m-1-first") || tag.equals("m-1-final")); // idempotent
            assertThat(snapshotsOf(ds)).contains(ds + "@m-1-2-first");
        } finally {
            if (later != null) {
                SNAPSHOTTER.release(later);
            }
            SNAPSHOTTER.release(sent);
            if (Files.exists(dst.mountpoint())) {
                deleteVolume(dst);
            }
            deleteVolume(src);
        }
    }

    private static java.util.List<String> snapshotsOf(String dataset) {
        return java.util.Arrays.stream(CowPools.run("zfs", "list", "-H", "-o", "name", "-t", "snapshot", "-r", "--",
                dataset).split("\n")).map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    @Test
    @DisplayName("on ZFS even buffered writes (no O_DSYNC) in lockstep are captured at one instant")
    void bufferedLockstepWritesAreCapturedAtOneInstant() throws Exception {
        lockstep(false);
    }
}
