package dev.fleet.migration.storage.cow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.spi.Snapshotter;
import dev.fleet.migration.core.spi.VolumeLocation;
import dev.fleet.migration.core.spi.VolumeSnapshot;
import dev.fleet.migration.core.testing.Trees;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What issue 5 asks of a copy-on-write snapshotter, beyond the shared contract: atomic snapshots
 * under a live writer, small incremental streams on a big volume, failed receives that leave
 * nothing, read-only snapshots even for root, and detection that says no to anything else. Each
 * backend runs these on its real pool through a short subclass.
 */
abstract class CowSnapshotterChecks {
    static final int MIB = 1024 * 1024;

    abstract Snapshotter snapshotter();

    /** A new, empty, writable volume on the pool. */
    abstract VolumeLocation newVolume(String name);

    /** A place on the pool, in a directory of its own, where a volume may be received. */
    abstract VolumeLocation newDestination(String name);

    /** Every subvolume / dataset and snapshot on the pool, one per line. */
    abstract String inventory();

    /** A plain directory on the pool that is not a subvolume / dataset of its own. */
    abstract Path plainDirectoryOnPool();

    /** A volume on the other kind of pool. */
    abstract VolumeLocation volumeOnOtherPool();

    /** Deletes a volume made by {@link #newVolume} (the big one, so the pool does not fill up). */
    abstract void deleteVolume(VolumeLocation v) throws Exception;

    static String unique(String prefix) {
        return CowPools.runId(prefix);
    }

    // ---------------------------------------------------------------- point-in-time consistency

    /**
     * Appends "n\n" to a.txt, then to b.txt, n = 1, 2, 3... one write(2) per line, until stopped.
     * Durable: each write is O_DSYNC (what a database does before it goes on), else buffered.
     */
    static final class LockstepWriter implements AutoCloseable {
        final AtomicLong written = new AtomicLong();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;
        private volatile Throwable failure;

        LockstepWriter(Path dir, boolean durable) {
            List<StandardOpenOption> opts = new ArrayList<>(List.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND));
            if (durable) {
                opts.add(StandardOpenOption.DSYNC);
            }
            java.util.Set<StandardOpenOption> o = java.util.Set.copyOf(opts);
            thread = new Thread(() -> {
                try (FileChannel a = FileChannel.open(dir.resolve("a.txt"), o);
                     FileChannel b = FileChannel.open(dir.resolve("b.txt"), o)) {
                    for (long n = 1; !stop.get(); n++) {
                        byte[] line = (n + "\n").getBytes(StandardCharsets.US_ASCII);
                        a.write(ByteBuffer.wrap(line));
                        b.write(ByteBuffer.wrap(line));
                        written.set(n);
                    }
                } catch (Throwable t) {
                    failure = t;
                }
            }, "lockstep-writer");
            thread.start();
        }

        void awaitProgress(long atLeast) throws InterruptedException {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (written.get() < atLeast && System.nanoTime() < deadline && failure == null) {
                Thread.sleep(1);
            }
            assertThat(failure).as("the writer failed").isNull();
            assertThat(written.get()).as("the writer is running").isGreaterThanOrEqualTo(atLeast);
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join();
            assertThat(failure).as("the writer failed").isNull();
        }
    }

    /**
     * What one instant of the writer looks like: a.txt holds 1..n, b.txt holds 1..m, and m is n
     * or n-1 (the writer is between its two writes). A write in progress at that instant may show
     * as a last line cut short (a prefix of the next number, no newline), as a power cut at that
     * instant could leave it: zfs-fuse gets a write(2) that crosses a 4 KiB page boundary as two
     * FUSE requests, and a snapshot can fall between them. Then the other file must be exactly
     * where that instant puts it: b.txt at n when a.txt's line n+1 is cut, a.txt at m+1 when
     * b.txt's line m+1 is. Returns n; any other shape is a violation.
     */
    static long checkOneInstant(String a, String b) {
        Lines la = countConsecutive("a.txt", a);
        Lines lb = countConsecutive("b.txt", b);
        long n = la.complete;
        long m = lb.complete;
        boolean ok = la.cut ? !lb.cut && m == n
                : lb.cut ? n == m + 1
                : m == n || m == n - 1;
        if (!ok) {
            throw new AssertionError("a.txt has lines 1.." + n + (la.cut ? " and a cut line" : "") + " but b.txt has 1.."
                    + m + (lb.cut ? " and a cut line" : "") + ": the two files were not captured at one instant");
        }
        return n;
    }

    /** {@code complete} whole lines 1..complete, then maybe a last line cut short. */
    record Lines(long complete, boolean cut) {}

    static Lines countConsecutive(String name, String content) {
        long expect = 1;
        String[] lines = content.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            boolean last = i == lines.length - 1; // after the final newline: empty, or a write cut short
            if (last) {
                String next = Long.toString(expect);
                if (line.isEmpty()) {
                    return new Lines(expect - 1, false);
                }
                if (next.startsWith(line) && line.length() < next.length()) {
                    return new Lines(expect - 1, true);
                }
            }
            if (!line.equals(Long.toString(expect))) {
                throw new AssertionError(name + " line " + expect + " is '" + line + "': a torn or out-of-order write");
            }
            expect++;
        }
        return new Lines(expect - 1, false);
    }

    @Test
    @DisplayName("every snapshot taken while a writer appends to two files in lockstep (O_DSYNC) shows both at one instant")
    void everySnapshotShowsTwoFilesInLockstepAtOneInstant() throws Exception {
        lockstep(true);
    }

    /** Takes 12 snapshots while a lockstep writer runs and checks each shows one instant of it. */
    void lockstep(boolean durable) throws Exception {
        VolumeLocation v = newVolume(unique("lockstep"));
        List<VolumeSnapshot> snaps = new ArrayList<>();
        List<Long> instants = new ArrayList<>();
        int step = durable ? 20 : 200;
        try (LockstepWriter w = new LockstepWriter(v.mountpoint(), durable)) {
            w.awaitProgress(5 * step);
            for (int i = 0; i < 12; i++) {
                long before = w.written.get();
                VolumeSnapshot s = snapshotter().snapshot(v, "s" + i);
                snaps.add(s);
                long n = checkOneInstant(Files.readString(s.path().resolve("a.txt")), Files.readString(s.path().resolve("b.txt")));
                assertThat(n).as("snapshot %s is not older than the writer's progress when it was requested", i)
                        .isGreaterThanOrEqualTo(before);
                instants.add(n);
                w.awaitProgress(w.written.get() + step); // let the writer move on before the next one
            }
        }
        assertThat(instants).as("the writer kept writing through the snapshots").isSorted().doesNotHaveDuplicates();
        for (VolumeSnapshot s : snaps) {
            snapshotter().release(s);
        }
    }

    @Test
    @DisplayName("the one-instant check: a write cut at that instant passes, anything out of step fails")
    void theOneInstantCheckItself() {
        assertThat(checkOneInstant("1\n2\n3\n", "1\n2\n")).isEqualTo(3);
        assertThat(checkOneInstant("1\n2\n3\n", "1\n2\n3\n")).isEqualTo(3);
        // a.txt's line 12 cut short (b.txt must be at 11); b.txt's line 12 cut short (a.txt must be at 12)
        String upTo11 = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n";
        assertThat(checkOneInstant(upTo11 + "1", upTo11)).isEqualTo(11);
        assertThat(checkOneInstant(upTo11 + "12\n", upTo11 + "1")).isEqualTo(12);
        assertThatThrownBy(() -> checkOneInstant(upTo11 + "1", "1\n2\n")).hasMessageContaining("one instant");
        assertThatThrownBy(() -> checkOneInstant(upTo11 + "12\n", upTo11 + "12\n1")).hasMessageContaining("one instant");
        assertThatThrownBy(() -> checkOneInstant(upTo11 + "1", upTo11 + "1")).hasMessageContaining("one instant");
        assertThatThrownBy(() -> checkOneInstant("1\n3\n", "1\n")).hasMessageContaining("torn or out-of-order");
        assertThatThrownBy(() -> checkOneInstant("1\n2\n", "1\n9")).hasMessageContaining("torn or out-of-order");
    }

    @Test
    @DisplayName("the same check catches a non-atomic copy (file by file) of the same live volume")
    void theLockstepCheckCatchesANonAtomicCopy() throws Exception {
        VolumeLocation v = newVolume(unique("lockstep-copy"));
        try (LockstepWriter w = new LockstepWriter(v.mountpoint(), true)) {
            w.awaitProgress(100);
            String a = Files.readString(v.mountpoint().resolve("a.txt"));
            w.awaitProgress(w.written.get() + 20); // a copy takes time: the writer moves on meanwhile
            String b = Files.readString(v.mountpoint().resolve("b.txt"));
            assertThatThrownBy(() -> checkOneInstant(a, b)).isInstanceOf(AssertionError.class)
                    .hasMessageContaining("not captured at one instant");
        }
    }

    // ---------------------------------------------------------------- incremental size

    /** Counts what goes through; keeps nothing. */
    static final class Counter extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }

    private long sendSize(VolumeSnapshot s, Optional<VolumeSnapshot> parent) {
        Counter c = new Counter();
        snapshotter().send(s, parent, c);
        return c.count;
    }

    /** Writes {@code mib} MiB of incompressible data from one 1 MiB buffer, each MiB made distinct. */
    static void writeBigFile(Path file, int mib) throws IOException {
        byte[] buf = new byte[MIB];
        new Random(42).nextBytes(buf);
        ByteBuffer bb = ByteBuffer.wrap(buf);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int i = 0; i < mib; i++) {
                bb.putInt(0, i); // no two MiB alike, so nothing can be deduplicated away
                bb.rewind();
                while (bb.hasRemaining()) {
                    ch.write(bb);
                }
            }
            ch.force(true);
        }
    }

    /** Overwrites {@code len} bytes at {@code offset} in place with fresh random data. */
    static void overwrite(Path file, long offset, int len) throws IOException {
        byte[] buf = new byte[len];
        ThreadLocalRandom.current().nextBytes(buf);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer bb = ByteBuffer.wrap(buf);
            long pos = offset;
            while (bb.hasRemaining()) {
                pos += ch.write(bb, pos);
            }
            ch.force(true);
        }
    }

    @Test
    @DisplayName("on a 1 GiB volume, 1 MiB changed sends at most 1.1 MiB + 1 MiB, and nothing changed sends under 2% of a full stream")
    void incrementalStreamsOfABigVolumeCarryOnlyTheChange() throws Exception {
        VolumeLocation v = newVolume(unique("big"));
        List<VolumeSnapshot> snaps = new ArrayList<>();
        try {
            Path data = v.mountpoint().resolve("data.bin");
            writeBigFile(data, 1024);
            VolumeSnapshot first = snapshotter().snapshot(v, "first");
            snaps.add(first);
            long full = sendSize(first, Optional.empty());
            assertThat(full).as("a full stream carries the whole GiB").isGreaterThanOrEqualTo(1024L * MIB);

            VolumeSnapshot unchanged = snapshotter().snapshot(v, "unchanged");
            snaps.add(unchanged);
            long idle = sendSize(unchanged, Optional.of(first));

            overwrite(data, 512L * MIB, MIB);
            VolumeSnapshot changed = snapshotter().snapshot(v, "changed");
            snaps.add(changed);
            long delta = sendSize(changed, Optional.of(first));

            System.out.printf("%s: full %d bytes, unchanged incremental %d bytes (%.4f%%), 1 MiB changed: %d bytes%n",
                    snapshotter().name(), full, idle, 100.0 * idle / full, delta);
            assertThat(idle).as("unchanged volume's incremental (bytes) vs 2%% of full %d", full).isLessThan(full / 50);
            assertThat(delta).as("1 MiB changed: the incremental carries the MiB").isGreaterThanOrEqualTo(MIB);
            assertThat(delta).as("1 MiB changed: at most 1.1 x 1 MiB + 1 MiB").isLessThanOrEqualTo((long) (1.1 * MIB) + MIB);
        } finally {
            for (VolumeSnapshot s : snaps) {
                snapshotter().release(s);
            }
            deleteVolume(v);
        }
    }

    // ---------------------------------------------------------------- failed receives

    /** A stream that fails with an IOException after {@code limit} bytes, as a dropped connection does. */
    static final class FailingAfter extends FilterInputStream {
        private long left;

        FailingAfter(InputStream in, long limit) {
            super(in);
            this.left = limit;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                throw new IOException("connection reset (simulated)");
            }
            int n = super.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }

    private byte[] send(VolumeSnapshot s, Optional<VolumeSnapshot> parent) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        snapshotter().send(s, parent, out);
        return out.toByteArray();
    }

    private void assertReceiveFails(InputStream in, VolumeLocation dst) {
        Throwable t = catchThrowable(() -> snapshotter().receive(in, dst));
        assertThat(t).as("receive into %s", dst.mountpoint()).isInstanceOf(RuntimeException.class)
                .isNotInstanceOf(AssertionError.class);
        assertThat(t.getMessage()).as("the failure says what happened").isNotBlank();
    }

    /** Files and subvolumes left in the destination's directory; empty directories do not count. */
    private static List<String> leftovers(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(p -> !Files.isDirectory(p) || !isEmptyDir(p)).filter(p -> !p.equals(dir))
                    .filter(p -> !Files.isDirectory(p) || !p.getFileName().toString().startsWith(".fleet-"))
                    .map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    private static boolean isEmptyDir(Path p) {
        try (Stream<Path> s = Files.list(p)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    @DisplayName("a failed receive leaves no partial subvolume or dataset, and a failed incremental leaves the destination as it was")
    void failedReceivesLeaveNothingBehind() throws Exception {
        VolumeLocation v = newVolume(unique("src"));
        Files.writeString(v.mountpoint().resolve("a.txt"), "alpha");
        writeBigFile(v.mountpoint().resolve("blob.bin"), 4);
        VolumeSnapshot s1 = snapshotter().snapshot(v, "s1");
        overwrite(v.mountpoint().resolve("blob.bin"), MIB, MIB);
        Files.writeString(v.mountpoint().resolve("b.txt"), "bravo");
        VolumeSnapshot s2 = snapshotter().snapshot(v, "s2");
        byte[] full = send(s1, Optional.empty());
        byte[] delta = send(s2, Optional.of(s1));

        VolumeLocation dst = newDestination(unique("dst"));
        String before = inventory();
        byte[] garbage = new byte[64 * 1024];
        new Random(7).nextBytes(garbage);
        List<InputStream> broken = List.of(
                new ByteArrayInputStream(Arrays.copyOf(full, full.length / 3)),
                new ByteArrayInputStream(Arrays.copyOf(full, full.length - 1)),
                new FailingAfter(new ByteArrayInputStream(full), full.length / 2),
                new ByteArrayInputStream(garbage),
                new ByteArrayInputStream(new byte[0]),
                new ByteArrayInputStream(delta)); // an incremental with nothing to apply it to
        for (InputStream in : broken) {
            assertReceiveFails(in, dst);
            assertThat(Files.exists(dst.mountpoint())).as("no destination after a failed receive").isFalse();
            assertThat(inventory()).as("no subvolume, dataset or snapshot left on the pool").isEqualTo(before);
            assertThat(leftovers(dst.mountpoint().getParent())).as("nothing left beside the destination").isEmpty();
        }

        snapshotter().receive(new ByteArrayInputStream(full), dst);
        String received = Trees.digest(dst.mountpoint());
        assertThat(received).isEqualTo(Trees.digest(s1.path()));
        String afterFull = inventory();
        for (InputStream in : List.of(new ByteArrayInputStream(Arrays.copyOf(delta, delta.length / 2)),
                new FailingAfter(new ByteArrayInputStream(delta), delta.length / 2),
                new ByteArrayInputStream(full))) { // a full stream onto an existing volume is refused
            assertReceiveFails(in, dst);
            assertThat(Trees.digest(dst.mountpoint())).as("the destination is as it was").isEqualTo(received);
            assertThat(inventory()).as("nothing new on the pool").isEqualTo(afterFull);
        }
        snapshotter().receive(new ByteArrayInputStream(delta), dst);
        assertThat(Trees.digest(dst.mountpoint())).as("the complete delta still applies").isEqualTo(Trees.digest(s2.path()));
        snapshotter().release(s1);
        snapshotter().release(s2);
    }

    // ---------------------------------------------------------------- read-only

    @Test
    @DisplayName("a snapshot is read-only, for root too: no write, create, delete, chmod or rename gets through")
    void snapshotsAreReadOnlyEvenForRoot() throws Exception {
        assertThat(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))
                .as("these ITs run as root (scripts/test.sh on CI), so read-only must hold against root").isEqualTo(0);
        VolumeLocation v = newVolume(unique("ro"));
        Files.writeString(v.mountpoint().resolve("a.txt"), "alpha");
        Files.createDirectories(v.mountpoint().resolve("dir"));
        VolumeSnapshot s = snapshotter().snapshot(v, "ro");
        String digest = Trees.digest(s.path());
        Path p = s.path();
        List<ThrowingAction> attempts = List.of(
                () -> Files.writeString(p.resolve("a.txt"), "changed"),
                () -> Files.writeString(p.resolve("a.txt"), "more", StandardOpenOption.APPEND),
                () -> Files.writeString(p.resolve("new.txt"), "new"),
                () -> Files.delete(p.resolve("a.txt")),
                () -> Files.createDirectory(p.resolve("newdir")),
                () -> Files.move(p.resolve("a.txt"), p.resolve("dir/a.txt")),
                () -> Files.setPosixFilePermissions(p.resolve("a.txt"), PosixFilePermissions.fromString("rwxrwxrwx")),
                () -> Files.setLastModifiedTime(p.resolve("a.txt"), java.nio.file.attribute.FileTime.fromMillis(0)));
        for (ThrowingAction a : attempts) {
            assertThatThrownBy(a::run).isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
        }
        assertThat(Trees.digest(p)).isEqualTo(digest);
        snapshotter().release(s);
    }

    interface ThrowingAction {
        void run() throws Exception;
    }

    // ---------------------------------------------------------------- detection and names

    @Test
    @DisplayName("supports only its own kind of volume: a plain directory, the other pool, the root file system and a missing path are refused")
    void supportsOnlyItsOwnVolumes() throws Exception {
        assertThat(snapshotter().supports(newVolume(unique("own")))).isTrue();
        assertThat(snapshotter().supports(new VolumeLocation("plain", plainDirectoryOnPool()))).as("plain directory").isFalse();
        assertThat(snapshotter().supports(volumeOnOtherPool())).as("the other pool").isFalse();
        Path onRoot = Files.createTempDirectory("cow-not-a-pool");
        assertThat(snapshotter().supports(new VolumeLocation("rootfs", onRoot))).as("root file system").isFalse();
        assertThat(snapshotter().supports(new VolumeLocation("missing", onRoot.resolve("missing")))).as("missing").isFalse();
        Files.delete(onRoot);
    }

    @Test
    @DisplayName("hostile names are refused before any program runs")
    void refusesHostileNames() {
        VolumeLocation v = newVolume(unique("names"));
        Path parent = newDestination(unique("d")).mountpoint().getParent();
        String before = inventory();
        for (String tag : List.of("-o", "a b", "a:b", "x/../y", ".hidden", "a@b", "a%b")) {
            assertThatThrownBy(() -> snapshotter().snapshot(v, tag)).as("tag %s", tag).isInstanceOf(InvalidInputException.class);
        }
        for (String leaf : List.of("-F", "a b", "a:b", "a,b", ".x")) {
            assertThatThrownBy(() -> snapshotter().receive(new ByteArrayInputStream(new byte[0]),
                    new VolumeLocation("dst", parent.resolve(leaf)))).as("destination %s", leaf)
                    .isInstanceOf(InvalidInputException.class);
        }
        assertThat(inventory()).as("nothing was made on the pool").isEqualTo(before);
        assertThatThrownBy(() -> snapshotter().snapshot(new VolumeLocation("nothere", parent.resolve("nothere")), "t"))
                .isInstanceOf(NodeOperationException.class).hasMessageContaining("nothere");
    }
}
