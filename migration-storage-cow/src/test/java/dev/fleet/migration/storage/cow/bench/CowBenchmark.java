package dev.fleet.migration.storage.cow.bench;

import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.spi.Snapshotter;
import dev.fleet.migration.core.spi.VolumeLocation;
import dev.fleet.migration.core.spi.VolumeSnapshot;
import dev.fleet.migration.storage.cow.BtrfsSnapshotter;
import dev.fleet.migration.storage.cow.ZfsSnapshotter;
import dev.fleet.migration.storage.cow.internal.Command;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Does snapshot time grow with volume size, and does the cutover's data path (final snapshot +
 * incremental send with 10 MiB changed) stay flat from 1 GiB to 4 GiB? On both pools, beside a
 * {@code tar -c} of the same volume as the baseline (what a non-CoW copy has to read).
 *
 * <p>Run as root on pools big enough for a 4 GiB volume:
 * <pre>
 *   FLEET_TEST_POOL_SIZE=12G bash scripts/ci/services/pools.sh up /tmp/fleet-bench
 *   source /tmp/fleet-bench/pools.env
 *   mvn -B -q -pl migration-storage-cow test-compile exec:java -Dexec.classpathScope=test \
 *       -Dexec.mainClass=dev.fleet.migration.storage.cow.bench.CowBenchmark
 *   bash scripts/ci/services/pools.sh down /tmp/fleet-bench
 * </pre>
 */
public final class CowBenchmark {
    private static final int MIB = 1024 * 1024;
    private static final int REPEAT = 5;
    private static final NodeId NODE = NodeId.of("bench");

    private CowBenchmark() {}

    public static void main(String[] args) throws Exception {
        String btrfsRoot = need("FLEET_TEST_BTRFS_ROOT");
        String zfsParent = need("FLEET_TEST_ZFS_POOL");
        Path zfsMount = Path.of(need("FLEET_TEST_ZFS_MOUNTPOINT"));
        String run = "bench-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);

        System.out.println("backend  size   snapshot-ms(median of " + REPEAT + ")  delta-snapshot+send-ms  delta-bytes   tar-c-ms   tar-bytes");
        List<String> summary = new ArrayList<>();
        for (String backend : List.of("btrfs", "zfs")) {
            Snapshotter s = backend.equals("btrfs") ? new BtrfsSnapshotter(NODE, Clock.systemUTC())
                    : new ZfsSnapshotter(NODE, Clock.systemUTC());
            double[] snap = new double[2];
            double[] delta = new double[2];
            double[] tar = new double[2];
            int i = 0;
            for (int gib : new int[] {1, 4}) {
                String name = run + "-" + gib + "g";
                Path mp;
                if (backend.equals("btrfs")) {
                    mp = Path.of(btrfsRoot).resolve(name);
                    sh("btrfs", "subvolume", "create", "--", mp.toString());
                } else {
                    sh("zfs", "create", "--", zfsParent + "/" + name);
                    mp = zfsMount.resolve(name);
                }
                VolumeLocation v = new VolumeLocation(name, mp);
                write(mp.resolve("data.bin"), gib * 1024);
                sh("sync");
                double[] times = new double[REPEAT];
                for (int r = 0; r < REPEAT; r++) {
                    long t0 = System.nanoTime();
                    VolumeSnapshot x = s.snapshot(v, "t" + r);
                    times[r] = (System.nanoTime() - t0) / 1e6;
                    s.release(x);
                }
                Arrays.sort(times);
                snap[i] = times[REPEAT / 2];

                VolumeSnapshot first = s.snapshot(v, "first");
                overwrite(mp.resolve("data.bin"), (long) gib * 512 * MIB, 10 * MIB);
                Counter c = new Counter();
                long t0 = System.nanoTime();
                VolumeSnapshot last = s.snapshot(v, "final");
                s.send(last, Optional.of(first), c);
                delta[i] = (System.nanoTime() - t0) / 1e6;
                long deltaBytes = c.count;

                Counter tc = new Counter();
                t0 = System.nanoTime();
                Command.of(NODE, "bench", List.of("tar", "-c", "-f", "-", "-C", mp.toString(), "--", ".")).streamTo(tc);
                tar[i] = (System.nanoTime() - t0) / 1e6;

                System.out.printf("%-8s %dGiB  %10.1f  %22.1f  %11d  %9.1f  %10d%n", backend, gib, snap[i], delta[i], deltaBytes, tar[i], tc.count);
                s.release(first);
                s.release(last);
                if (backend.equals("btrfs")) {
                    sh("btrfs", "subvolume", "delete", "--", mp.toString());
                } else {
                    destroy(zfsParent + "/" + name);
                }
                i++;
            }
            summary.add(String.format("%s: snapshot 4GiB/1GiB = %.2f (target within 0.8..1.2), delta snapshot+send 4GiB/1GiB = %.2f,"
                    + " tar baseline 4GiB/1GiB = %.2f; at 4 GiB the delta path is %.0fx faster than tar",
                    backend, snap[1] / snap[0], delta[1] / delta[0], tar[1] / tar[0], tar[1] / delta[1]));
        }
        summary.forEach(System.out::println);
    }

    private static String need(String var) {
        String v = System.getenv(var);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException(var + " is not set: FLEET_TEST_POOL_SIZE=12G bash scripts/ci/services/pools.sh up DIR; source DIR/pools.env");
        }
        return v;
    }

    private static void sh(String... argv) {
        Command.of(NODE, "bench", List.of(argv)).run();
    }

    private static void destroy(String ds) throws InterruptedException {
        for (int i = 0; ; i++) {
            try {
                sh("zfs", "destroy", "-r", "--", ds);
                return;
            } catch (RuntimeException e) {
                if (i > 30) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    private static void write(Path file, int mib) throws Exception {
        byte[] buf = new byte[MIB];
        new Random(42).nextBytes(buf);
        ByteBuffer bb = ByteBuffer.wrap(buf);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int i = 0; i < mib; i++) {
                bb.putInt(0, i);
                bb.rewind();
                while (bb.hasRemaining()) {
                    ch.write(bb);
                }
            }
            ch.force(true);
        }
    }

    private static void overwrite(Path file, long offset, int len) throws Exception {
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

    private static final class Counter extends OutputStream {
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
}
