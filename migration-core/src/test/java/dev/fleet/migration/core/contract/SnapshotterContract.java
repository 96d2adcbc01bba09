package dev.fleet.migration.core.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.spi.Snapshotter;
import dev.fleet.migration.core.spi.VolumeLocation;
import dev.fleet.migration.core.spi.VolumeSnapshot;
import dev.fleet.migration.core.testing.Trees;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Snapshotter} must do. A subclass provides the snapshotter and makes empty
 * volumes on its pool. Streams here are small (kilobytes), so the suite runs in seconds; the
 * big-volume and consistency-under-load checks live in each implementation's own tests.
 * (Read-only enforcement is left to those tests too: a plain-directory reference
 * implementation cannot enforce it against root.)
 */
public abstract class SnapshotterContract {

    protected abstract Snapshotter snapshotter();

    /** Makes a new, empty, writable volume on this snapshotter's pool. */
    protected abstract VolumeLocation newVolume(String name);

    /** A location on the pool where a volume of this name may be received; it must not exist yet. */
    protected abstract VolumeLocation newDestination(String name);

    protected String unique(String prefix) {
        return prefix + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36);
    }

    private static void write(Path p, String content) throws Exception {
        Files.createDirectories(p.getParent());
        Files.writeString(p, content, StandardCharsets.UTF_8);
    }

    private VolumeLocation volumeWithData() throws Exception {
        VolumeLocation v = newVolume(unique("vol"));
        write(v.mountpoint().resolve("a.txt"), "alpha");
        write(v.mountpoint().resolve("dir/b.txt"), "bravo");
        write(v.mountpoint().resolve("dir/nested/c.bin"), "charlie".repeat(1000));
        Files.createDirectories(v.mountpoint().resolve("empty"));
        return v;
    }

    private byte[] send(VolumeSnapshot s, Optional<VolumeSnapshot> parent) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        snapshotter().send(s, parent, out);
        return out.toByteArray();
    }

    @Nested
    @DisplayName("snapshots")
    class Snapshots {
        @Test
        @DisplayName("are supported on the snapshotter's own volumes")
        void supportsOwnVolumes() throws Exception {
            assertThat(snapshotter().supports(volumeWithData())).isTrue();
        }

        @Test
        @DisplayName("show the tree as it was when taken, not later writes or deletions")
        void arePointInTime() throws Exception {
            VolumeLocation v = volumeWithData();
            String before = Trees.digest(v.mountpoint());
            VolumeSnapshot s = snapshotter().snapshot(v, unique("snap"));
            write(v.mountpoint().resolve("a.txt"), "changed");
            write(v.mountpoint().resolve("new.txt"), "new");
            Files.delete(v.mountpoint().resolve("dir/b.txt"));
            assertThat(Trees.digest(s.path())).isEqualTo(before);
            snapshotter().release(s);
        }

        @Test
        @DisplayName("are gone once released, and releasing twice is fine")
        void releaseIsIdempotent() throws Exception {
            VolumeLocation v = volumeWithData();
            VolumeSnapshot s = snapshotter().snapshot(v, unique("snap"));
            snapshotter().release(s);
            snapshotter().release(s);
            assertThat(Files.exists(s.path())).isFalse();
            assertThat(Files.readString(v.mountpoint().resolve("a.txt"))).as("the volume itself stays").isEqualTo("alpha");
        }
    }

    @Nested
    @DisplayName("send and receive")
    class SendAndReceive {
        @Test
        @DisplayName("a full stream received elsewhere reproduces the tree exactly")
        void fullRoundTrip() throws Exception {
            VolumeLocation v = volumeWithData();
            VolumeSnapshot s = snapshotter().snapshot(v, unique("snap"));
            VolumeLocation dst = newDestination(unique("dst"));
            snapshotter().receive(new ByteArrayInputStream(send(s, Optional.empty())), dst);
            assertThat(Trees.digest(dst.mountpoint())).isEqualTo(Trees.digest(s.path()));
            snapshotter().release(s);
        }

        @Test
        @DisplayName("an incremental stream carries changes, additions and deletions, and is smaller than a full one")
        void incrementalRoundTrip() throws Exception {
            VolumeLocation v = volumeWithData();
            write(v.mountpoint().resolve("big.bin"), "x".repeat(200_000));
            VolumeSnapshot first = snapshotter().snapshot(v, unique("first"));
            VolumeLocation dst = newDestination(unique("dst"));
            byte[] full = send(first, Optional.empty());
            snapshotter().receive(new ByteArrayInputStream(full), dst);

            write(v.mountpoint().resolve("a.txt"), "alpha, changed");
            write(v.mountpoint().resolve("dir/added.txt"), "added");
            Files.delete(v.mountpoint().resolve("dir/b.txt"));
            VolumeSnapshot second = snapshotter().snapshot(v, unique("second"));
            byte[] delta = send(second, Optional.of(first));
            snapshotter().receive(new ByteArrayInputStream(delta), dst);

            assertThat(Trees.digest(dst.mountpoint())).isEqualTo(Trees.digest(second.path()));
            assertThat(delta.length).as("the delta leaves the unchanged 200 kB file out").isLessThan(full.length / 2);
            snapshotter().release(first);
            snapshotter().release(second);
        }

        @Test
        @DisplayName("a broken stream is refused and leaves nothing behind at the destination")
        void brokenStreamLeavesNothing() throws Exception {
            VolumeLocation v = volumeWithData();
            VolumeSnapshot s = snapshotter().snapshot(v, unique("snap"));
            byte[] full = send(s, Optional.empty());
            byte[] cut = Arrays.copyOf(full, full.length / 2);
            VolumeLocation dst = newDestination(unique("dst"));
            try {
                snapshotter().receive(new ByteArrayInputStream(cut), dst);
                throw new AssertionError("a stream cut in half was accepted");
            } catch (RuntimeException expected) {
                assertThat(expected).isNotInstanceOf(AssertionError.class);
            }
            assertThat(Files.exists(dst.mountpoint())).isFalse();
            snapshotter().release(s);
        }
    }
}
