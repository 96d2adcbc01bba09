package dev.fleet.migration.bench;

import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.spi.Snapshotter;
import dev.fleet.migration.core.spi.VolumeLocation;
import dev.fleet.migration.core.spi.VolumeSnapshot;
import dev.fleet.migration.storage.cow.BtrfsSnapshotter;
import dev.fleet.migration.storage.cow.ZfsSnapshotter;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Issue 5's speed figures: does snapshot time grow with volume size, and does the cutover's data
 * path (final snapshot + incremental send with 10 MiB changed) stay flat from 1 GiB to 4 GiB? On
 * both pools, beside a {@code tar -c} of the same volume as the baseline (what a non-CoW copy has
 * to read).
 *
 * <p>Per backend (btrfs, then ZFS) and size (small, then big): a fresh subvolume or dataset with
 * one file of that size, written and flushed; the median of {@code bench.cow.repeats} (default
 * 5) snapshot-and-release times; then a first snapshot, {@code bench.cow.changedMiB} (default
 * 10) MiB overwritten in the middle of the file, and the timed final snapshot plus the
 * incremental send against the first (bytes counted, stream discarded); then {@code tar -c} of
 * the volume, timed and counted. The figures compare the big volume with the small one (targets:
 * within 20%, as issue 5 asks), and at the big size the delta path with the tar baseline.
 *
 * <p>Runs as root on the pools pools.sh makes (its FLEET_TEST_BTRFS_ROOT, FLEET_TEST_ZFS_POOL and
 * FLEET_TEST_ZFS_MOUNTPOINT); the default 4 GiB volumes need {@code FLEET_TEST_POOL_SIZE=12G},
 * which bench/run.sh sets. Sizes: {@code -Dbench.cow.smallMiB} (default 1024) and
 * {@code -Dbench.cow.bigMiB} (default 4096).
 */
final class CowBenchmark implements Benchmark {
    private static final int MIB = 1024 * 1024;
    private static final NodeId NODE = NodeId.of("bench");
    private final int repeat = Integer.getInteger("bench.cow.repeats", 5);
    private final int smallMib = Integer.getInteger("bench.cow.smallMiB", 1024);
    private final int bigMib = Integer.getInteger("bench.cow.bigMiB", 4096);
    private final int changedMib = Integer.getInteger("bench.cow.changedMiB", 10);

    @Override
    public String name() {
        return "cow";
    }

    @Override
    public List<String> services() {
        return List.of("pools");
    }

    @Override
    public List<Figure> run() throws Exception {
        String btrfsRoot = BenchApps.env("FLEET_TEST_BTRFS_ROOT");
        String zfsParent = BenchApps.env("FLEET_TEST_ZFS_POOL");
        Path zfsMount = Path.of(BenchApps.env("FLEET_TEST_ZFS_MOUNTPOINT"));
        String run = "bench-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);
        String small = size(smallMib);
        String big = size(bigMib);

        System.out.println("cow: backend  size      snapshot-ms(median of " + repeat + ")  delta-snapshot+send-ms"
                + "  delta-bytes   tar-c-ms   tar-bytes");
        List<Figure> figures = new ArrayList<>();
        for (String backend : List.of("btrfs", "zfs")) {
            Snapshotter s = backend.equals("btrfs") ? new BtrfsSnapshotter(NODE, Clock.systemUTC())
                    : new ZfsSnapshotter(NODE, Clock.systemUTC());
            double[] snap = new double[2];
            double[] delta = new double[2];
            double[] tar = new double[2];
            int i = 0;
            for (int mib : new int[] {smallMib, bigMib}) {
                String name = run + "-" + mib + "m";
                Path mp;
                if (backend.equals("btrfs")) {
                    mp = Path.of(btrfsRoot).resolve(name);
                    sh("btrfs", "subvolume", "create", "--", mp.toString());
                } else {
                    sh("zfs", "create", "--", zfsParent + "/" + name);
                    mp = zfsMount.resolve(name);
                }
                List<VolumeSnapshot> taken = new ArrayList<>();
                try {
                    VolumeLocation v = new VolumeLocation(name, mp);
                    write(mp.resolve("data.bin"), mib);
                    sh("sync");
                    double[] times = new double[repeat];
                    for (int r = 0; r < repeat; r++) {
                        long t0 = System.nanoTime();
                        VolumeSnapshot x = s.snapshot(v, "t" + r);
                        times[r] = (System.nanoTime() - t0) / 1e6;
                        s.release(x);
                    }
                    snap[i] = BenchApps.median(times);

                    VolumeSnapshot first = s.snapshot(v, "first");
                    taken.add(first);
                    overwrite(mp.resolve("data.bin"), (long) mib * MIB / 2, changedMib * MIB);
                    Counter c = new Counter();
                    long t0 = System.nanoTime();
                    VolumeSnapshot last = s.snapshot(v, "final");
                    taken.add(last);
                    s.send(last, Optional.of(first), c);
                    delta[i] = (System.nanoTime() - t0) / 1e6;
                    long deltaBytes = c.count;

                    t0 = System.nanoTime();
                    long tarBytes = BenchApps.countOutput(List.of("tar", "-c", "-f", "-", "-C", mp.toString(), "--", "."));
                    tar[i] = (System.nanoTime() - t0) / 1e6;

                    System.out.printf(Locale.ROOT, "cow: %-8s %-8s  %10.1f  %22.1f  %11d  %9.1f  %10d%n", backend,
                            size(mib), snap[i], delta[i], deltaBytes, tar[i], tarBytes);
                } finally {
                    for (VolumeSnapshot x : taken) {
                        s.release(x);
                    }
                    if (backend.equals("btrfs")) {
                        sh("btrfs", "subvolume", "delete", "--", mp.toString());
                    } else {
                        destroy(zfsParent + "/" + name);
                    }
                }
                i++;
            }
            System.out.printf(Locale.ROOT, "cow: %s: snapshot %s/%s = %.2f (target within 0.8..1.2), delta snapshot+send"
                            + " %s/%s = %.2f, tar baseline %s/%s = %.2f; at %s the delta path is %.0fx faster than tar%n",
                    backend, big, small, snap[1] / snap[0], big, small, delta[1] / delta[0], big, small,
                    tar[1] / tar[0], big, tar[1] / delta[1]);
            String bench = "cow: " + backend;
            figures.add(new Figure(bench, "snapshot of a " + big + " volume (median of " + repeat + ")", snap[1], "ms",
                    snap[0], "the same snapshot of a " + small + " volume", "within 20% of baseline",
                    within20(snap[1], snap[0])));
            figures.add(new Figure(bench, "final snapshot + incremental send, " + changedMib + " MiB changed in "
                    + big, delta[1], "ms", delta[0], "the same in " + small, "within 20% of baseline",
                    within20(delta[1], delta[0])));
            figures.add(new Figure(bench, "final snapshot + incremental send, " + changedMib + " MiB changed in "
                    + big, delta[1], "ms", tar[1], "tar -c of the " + big + " volume", "—", true));
            figures.add(new Figure(bench, "tar -c of a " + big + " volume (a non-CoW copy grows)", tar[1], "ms",
                    tar[0], "tar -c of a " + small + " volume", "—", true));
        }
        return figures;
    }

    private static boolean within20(double value, double baseline) {
        double r = value / baseline;
        return r >= 0.8 && r <= 1.2;
    }

    private static String size(int mib) {
        return mib % 1024 == 0 ? mib / 1024 + " GiB" : mib + " MiB";
    }

    private static void sh(String... argv) throws Exception {
        BenchApps.run(List.of(argv));
    }

    private static void destroy(String ds) throws Exception {
        for (int i = 0; ; i++) {
            try {
                sh("zfs", "destroy", "-r", "--", ds);
                return;
            } catch (java.io.IOException e) {
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
