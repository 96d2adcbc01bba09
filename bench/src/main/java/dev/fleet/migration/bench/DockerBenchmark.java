package dev.fleet.migration.bench;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.core.spi.OperationStatus;
import dev.fleet.migration.core.spi.Role;
import dev.fleet.migration.docker.DockerEndpoint;
import dev.fleet.migration.docker.DockerNodeAgent;
import dev.fleet.migration.examples.EmbeddedMigration;
import dev.fleet.migration.transport.SharedDirectoryTransport;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Issue 3's benchmark, against the two real Docker engines bench/run.sh starts.
 *
 * <p><b>Throughput</b>: snapshot plus restore of 1 GiB in one file and of 1 GiB in 100,000
 * files. The figure is the wall time of the two node operations, driven directly on the agents
 * (submit, then poll every 5 ms, so no scheduler tick is counted): SNAPSHOT (commit and
 * {@code docker save} of the container, the volume tree, the single-pass archive with its
 * sha256, fsync and rename) plus RESTORE (reading the archive with its sha256 checked while it
 * streams, extraction into staging, {@code docker load}, volume creation and the move into it,
 * container creation). The transfer between them is not counted on either side. The baseline
 * is {@code tar -c -C vol . | tar -x -C dir} of the same volume in the same run, on the same
 * disk, with warm caches like ours: one read and one write, no hashing, no fsync, no image
 * (targets ≤ 1.3× and ≤ 1.5×). A second, informational baseline has our shape: {@code tar -cf
 * archive}, {@code sync archive}, {@code tar -xf archive}. Each side runs
 * {@code bench.docker.repeats} times (default 3), alternating, and the medians are reported.
 *
 * <p><b>Memory</b>: the peak RSS (VmHWM from /proc/PID/status) of a child JVM with
 * {@code -Xmx128m} that runs a whole migration of a 4 GiB volume (the embedding example), beside
 * the same JVM running the same migration of a 1 MiB volume, its "idle" footprint (target: no
 * more than 64 MiB above it).
 */
final class DockerBenchmark implements Benchmark {
    private static final long MIB = 1024 * 1024;
    // docker.sh's variables, read when the benchmark runs
    private String dockerA;
    private String dockerB;
    private String image;
    private Path archiveA;
    private Path archiveB;
    private final long bigMiB = Long.getLong("bench.docker.bigMiB", 4096);
    private final int repeats = Integer.getInteger("bench.docker.repeats", 3);
    /** Which parts run: any of one (1 GiB in one file), many (in 100,000 files), memory; default all. */
    private final List<String> parts = List.of(System.getProperty("bench.docker.parts", "one,many,memory").split(","));

    @Override
    public String name() {
        return "docker";
    }

    @Override
    public List<String> services() {
        return List.of("docker");
    }

    private static String env(String name) {
        return BenchApps.env(name);
    }

    @Override
    public List<Figure> run() throws Exception {
        dockerA = env("FLEET_TEST_DOCKER_A");
        dockerB = env("FLEET_TEST_DOCKER_B");
        image = env("FLEET_TEST_IMAGE");
        archiveA = Path.of(env("FLEET_TEST_ARCHIVE_A"));
        archiveB = Path.of(env("FLEET_TEST_ARCHIVE_B"));
        List<Figure> figures = new ArrayList<>();
        if (parts.contains("one")) {
            figures.addAll(throughput("1 GiB in one file", 1.3, mp -> writeFile(mp.resolve("one.bin"), 1024 * MIB, 1)));
        }
        if (parts.contains("many")) {
            figures.addAll(throughput("1 GiB in 100,000 files", 1.5, mp -> {
                for (int d = 0; d < 100; d++) {
                    Path dir = Files.createDirectories(mp.resolve("d" + d));
                    for (int f = 0; f < 1000; f++) {
                        writeFile(dir.resolve("f" + f), 10 * 1024 + 752, d * 1000L + f); // 100,000 × ~10.7 KiB ≈ 1 GiB
                    }
                }
            }));
        }
        if (parts.contains("memory")) {
            figures.addAll(memory());
        }
        return figures;
    }

    interface Filler {
        void fill(Path mountpoint) throws IOException;
    }

    private List<Figure> throughput(String what, double target, Filler filler) throws Exception {
        String app = "bench-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        List<Double> tar = new ArrayList<>();
        List<Double> tarFile = new ArrayList<>();
        List<Double> fleet = new ArrayList<>();
        List<Double> snapshots = new ArrayList<>();
        List<Double> restores = new ArrayList<>();
        try (DockerNodeAgent a = agent("a", dockerA, archiveA, archiveB);
             DockerNodeAgent b = agent("b", dockerB, archiveB, archiveA)) {
            Path mp = deploy(app, filler);
            sync();
            for (int r = 0; r < repeats; r++) {
                tar.add(tarPipe(mp));
                tarFile.add(tarViaFile(mp));
                double[] ours = snapshotAndRestore(a, b, app, r);
                snapshots.add(ours[0]);
                restores.add(ours[1]);
                fleet.add(ours[0] + ours[1]);
                System.out.printf(Locale.ROOT, "docker: %s, run %d: tar -c | tar -x %.2f s; tar -cf, sync, tar -xf %.2f s;"
                        + " snapshot %.2f s + restore %.2f s%n", what, r + 1, tar.get(r), tarFile.get(r), ours[0], ours[1]);
            }
        } finally {
            cleanUp(app);
        }
        double ours = median(fleet);
        System.out.printf(Locale.ROOT, "docker: %s, medians of %d: snapshot %.2f s, restore %.2f s%n", what, repeats,
                median(snapshots), median(restores));
        return List.of(
                new Figure("docker: snapshot + restore", what + " (median of " + repeats + ")", ours, "s",
                        median(tar), "tar -c | tar -x, median", "≤ " + target + "× baseline",
                        ours <= target * median(tar)),
                new Figure("docker: snapshot + restore", what + ", against an archive-shaped baseline", ours, "s",
                        median(tarFile), "tar -cf file; sync file; tar -xf file, median", "—", true));
    }

    private double tarPipe(Path mp) throws Exception {
        Path copy = Files.createTempDirectory(archiveB, "tar-baseline");
        long t0 = System.nanoTime();
        List<Process> pipe = ProcessBuilder.startPipeline(List.of(
                new ProcessBuilder("tar", "-c", "-C", mp.toString(), "--", ".").redirectError(ProcessBuilder.Redirect.INHERIT),
                new ProcessBuilder("tar", "-x", "-C", copy.toString()).redirectError(ProcessBuilder.Redirect.INHERIT)));
        for (Process p : pipe) {
            if (p.waitFor() != 0) {
                throw new IllegalStateException("tar failed in the baseline");
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        delete(copy);
        sync();
        return seconds;
    }

    private double tarViaFile(Path mp) throws Exception {
        Path file = archiveA.resolve("tar-baseline-" + System.nanoTime() + ".tar");
        Path copy = Files.createTempDirectory(archiveB, "tar-baseline");
        long t0 = System.nanoTime();
        run("tar", "-c", "-f", file.toString(), "-C", mp.toString(), "--", ".");
        run("sync", "--", file.toString());
        run("tar", "-x", "-f", file.toString(), "-C", copy.toString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        Files.delete(file);
        delete(copy);
        sync();
        return seconds;
    }

    /** Snapshot on a, transfer (not timed), restore on b; returns both operations' seconds and undoes b's side. */
    private double[] snapshotAndRestore(DockerNodeAgent a, DockerNodeAgent b, String app, int round) throws Exception {
        MigrationId id = MigrationId.of("m-" + app + "-" + round);
        AppRef ref = AppRef.container(app);
        long t0 = System.nanoTime();
        OperationStatus snap = await(a, new OperationRequest(new OperationKey(id, OperationKind.SNAPSHOT, 1), ref,
                NodeId.of("a"), NodeId.of("b"), Optional.empty(), Duration.ofMinutes(30)));
        double snapshot = (System.nanoTime() - t0) / 1e9;
        ArchiveInfo archive = snap.archive().orElseThrow();
        System.out.println("docker:   snapshot " + timings(snap));
        await(a, new OperationRequest(new OperationKey(id, OperationKind.TRANSFER, 1), ref, NodeId.of("a"),
                NodeId.of("b"), Optional.of(archive), Duration.ofMinutes(30)));
        sync();
        long t1 = System.nanoTime();
        OperationStatus restored = await(b, new OperationRequest(new OperationKey(id, OperationKind.RESTORE, 1), ref,
                NodeId.of("a"), NodeId.of("b"), Optional.of(archive), Duration.ofMinutes(30)));
        double restore = (System.nanoTime() - t1) / 1e9;
        System.out.println("docker:   restore " + timings(restored));
        Set<OperationKind> started = Set.of(OperationKind.SNAPSHOT, OperationKind.TRANSFER, OperationKind.RESTORE);
        b.compensate(new CompensationRequest(id, 1, ref, Role.TARGET, started));
        a.compensate(new CompensationRequest(id, 1, ref, Role.SOURCE, started));
        sync();
        return new double[] {snapshot, restore};
    }

    /** The phases an operation reports ({@code *.ms.*} facts), in milliseconds. */
    private static String timings(OperationStatus s) {
        return new java.util.TreeMap<>(s.facts()).entrySet().stream().filter(e -> e.getKey().contains(".ms."))
                .map(e -> e.getKey().replaceFirst("^[a-z]+\\.ms\\.", "") + " " + e.getValue() + " ms")
                .collect(java.util.stream.Collectors.joining(", "));
    }

    private static OperationStatus await(DockerNodeAgent agent, OperationRequest request) throws InterruptedException {
        OperationStatus s = agent.submit(request);
        while (s.phase() == OperationStatus.Phase.RUNNING) {
            Thread.sleep(5);
            s = agent.status(request.key()).orElseThrow();
        }
        if (s.phase() == OperationStatus.Phase.FAILED) {
            throw new IllegalStateException(request.key() + " failed: " + s.error().orElse("?"));
        }
        return s;
    }

    private static DockerNodeAgent agent(String id, String docker, Path archiveDir, Path peerArchiveDir) {
        return DockerNodeAgent.builder()
                .node(NodeId.of(id))
                .docker(DockerEndpoint.unix(docker))
                .archiveDirectory(archiveDir)
                .transport(SharedDirectoryTransport.builder().build())
                .peer(NodeId.of(id.equals("a") ? "b" : "a"), new DockerNodeAgent.Peer(
                        new Endpoint("127.0.0.1", 22, "root"), peerArchiveDir.toString()))
                .probeHostPorts(false)
                .build();
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed");
        }
    }

    private List<Figure> memory() throws Exception {
        String small = "bench-small-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        String big = "bench-big-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        try {
            deploy(small, mp -> writeFile(mp.resolve("small.bin"), MIB, 7));
            long idle = peakRssOfChildMigration(small);
            deploy(big, mp -> writeFile(mp.resolve("big.bin"), bigMiB * MIB, 8));
            sync();
            long peak = peakRssOfChildMigration(big);
            double over = (peak - idle) / (double) MIB;
            System.out.printf("docker: peak RSS with -Xmx128m: %d MiB moving 1 MiB, %d MiB moving %d MiB%n",
                    idle / MIB, peak / MIB, bigMiB);
            return List.of(new Figure("docker: memory (-Xmx128m)", "peak RSS (VmHWM) moving " + bigMiB + " MiB",
                    peak / (double) MIB, "MiB", idle / (double) MIB, "idle: the same JVM moving 1 MiB",
                    "≤ baseline + 64 MiB", over <= 64),
                    new Figure("docker: memory (-Xmx128m)", "peak RSS above idle, moving " + bigMiB + " MiB", over,
                            "MiB", Double.NaN, "—", "≤ 64 MiB", over <= 64));
        } finally {
            cleanUp(small);
            cleanUp(big);
        }
    }

    /** Runs the embedding example in a child JVM with -Xmx128m and returns its peak RSS (VmHWM). */
    private long peakRssOfChildMigration(String app) throws Exception {
        Path store = Files.createTempFile("bench-store", ".db");
        Files.delete(store);
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), EmbeddedMigration.class.getName(),
                dockerA, archiveA.toString(), dockerB, archiveB.toString(), app, store.toString())
                .redirectErrorStream(true);
        Process p = pb.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread drain = new Thread(() -> {
            try {
                p.getInputStream().transferTo(out);
            } catch (IOException ignored) {
                // the child ended
            }
        });
        drain.start();
        long peak = 0;
        Path status = Path.of("/proc", String.valueOf(p.pid()), "status");
        while (p.isAlive()) {
            try {
                for (String line : Files.readAllLines(status)) {
                    if (line.startsWith("VmHWM:")) {
                        peak = Math.max(peak, Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
                    }
                }
            } catch (IOException ended) {
                break;
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
        drain.join();
        Files.deleteIfExists(store);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("the child migration of " + app + " failed:\n" + out);
        }
        return peak;
    }

    private Path deploy(String app, Filler filler) throws Exception {
        return BenchApps.deploy(dockerA, image, app, filler::fill);
    }

    private void cleanUp(String app) {
        BenchApps.cleanUp(app, List.of(dockerA, dockerB), List.of(archiveA, archiveB));
    }

    private static void writeFile(Path file, long size, long seed) throws IOException {
        BenchApps.writeFile(file, size, seed);
    }

    private static void sync() throws Exception {
        BenchApps.sync();
    }

    private static void delete(Path dir) throws IOException {
        BenchApps.delete(dir);
    }

    private static String docker(String host, String... args) throws IOException, InterruptedException {
        return BenchApps.docker(host, args);
    }
}
