package dev.fleet.migration.bench;

import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.Span;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.spi.NoopProxyRouter;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.examples.EmbeddedMigration;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Issue 3's benchmark, against the two real Docker engines bench/run.sh starts:
 * snapshot plus restore of 1 GiB in one file and of 1 GiB in 100,000 files, beside
 * {@code tar -c | tar -x} of the same volume in the same run (targets ≤ 1.3× and ≤ 1.5×);
 * and the peak RSS of an agent JVM with {@code -Xmx128m} moving a 4 GiB volume, beside the
 * same JVM moving a 1 MiB one (target: no more than 64 MiB above it).
 */
final class DockerBenchmark implements Benchmark {
    private static final long MIB = 1024 * 1024;
    private final String dockerA = env("FLEET_TEST_DOCKER_A");
    private final String dockerB = env("FLEET_TEST_DOCKER_B");
    private final String image = env("FLEET_TEST_IMAGE");
    private final Path archiveA = Path.of(env("FLEET_TEST_ARCHIVE_A"));
    private final Path archiveB = Path.of(env("FLEET_TEST_ARCHIVE_B"));
    private final long bigMiB = Long.getLong("bench.docker.bigMiB", 4096);

    @Override
    public String name() {
        return "docker";
    }

    private static String env(String name) {
        String v = System.getenv(name);
        if (v == null) {
            throw new IllegalStateException(name + " is not set: run the docker benchmark through bench/run.sh");
        }
        return v;
    }

    @Override
    public List<Figure> run() throws Exception {
        List<Figure> figures = new ArrayList<>();
        figures.add(throughput("1 GiB in one file", 1.3, mp -> writeFile(mp.resolve("one.bin"), 1024 * MIB, 1)));
        figures.add(throughput("1 GiB in 100,000 files", 1.5, mp -> {
            for (int d = 0; d < 100; d++) {
                Path dir = Files.createDirectories(mp.resolve("d" + d));
                for (int f = 0; f < 1000; f++) {
                    writeFile(dir.resolve("f" + f), 10 * 1024 + 752, d * 1000L + f); // 100,000 × ~10.7 KiB ≈ 1 GiB
                }
            }
        }));
        figures.addAll(memory());
        return figures;
    }

    interface Filler {
        void fill(Path mountpoint) throws IOException;
    }

    private Figure throughput(String what, double target, Filler filler) throws Exception {
        String app = "bench-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        try {
            Path mp = deploy(app, filler);
            sync();
            // baseline: the same tree through tar -c | tar -x, on the same disk
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
            double tarSeconds = (System.nanoTime() - t0) / 1e9;
            delete(copy);
            sync();
            Migration m = migrate(app);
            double fleetSeconds = seconds(m, OperationKind.SNAPSHOT) + seconds(m, OperationKind.RESTORE);
            System.out.printf("docker: %s: tar -c | tar -x %.2f s; snapshot %.2f s + restore %.2f s%n", what,
                    tarSeconds, seconds(m, OperationKind.SNAPSHOT), seconds(m, OperationKind.RESTORE));
            return new Figure("docker: snapshot + restore", what, fleetSeconds, "s", tarSeconds,
                    "tar -c | tar -x", "≤ " + target + "× baseline", fleetSeconds <= target * tarSeconds);
        } finally {
            cleanUp(app);
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
            return List.of(new Figure("docker: memory (-Xmx128m)", "peak RSS moving " + bigMiB + " MiB",
                    peak / (double) MIB, "MiB", idle / (double) MIB, "the same JVM moving 1 MiB",
                    "≤ baseline + 64 MiB", over <= 64));
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

    private Migration migrate(String app) throws Exception {
        EmbeddedMigration example = new EmbeddedMigration(
                new EmbeddedMigration.Node("a", dockerA, archiveA, "127.0.0.1"),
                new EmbeddedMigration.Node("b", dockerB, archiveB, "127.0.0.2"),
                new InMemoryMigrationStore(), new NoopProxyRouter());
        Migration m = example.migrate(app, "a", "b", new PrintStream(OutputStream.nullOutputStream()));
        if (m.state() != MigrationState.DONE) {
            throw new IllegalStateException("benchmark migration failed: " + m.failure());
        }
        return m;
    }

    private static double seconds(Migration m, OperationKind kind) {
        Span s = m.operations().get(kind);
        return s.duration().orElseThrow().toNanos() / 1e9;
    }

    private Path deploy(String app, Filler filler) throws Exception {
        docker(dockerA, "volume", "create", app + "-data");
        Path mp = Path.of(docker(dockerA, "volume", "inspect", "--format", "{{.Mountpoint}}", app + "-data"));
        filler.fill(mp);
        docker(dockerA, "run", "-d", "--init", "--name", app, "--network", "none", "-v", app + "-data:/data",
                image, "sleep", "1000000");
        return mp;
    }

    private void cleanUp(String app) {
        for (String host : List.of(dockerA, dockerB)) {
            for (String n : dockerQuietly(host, "ps", "-a", "--format", "{{.Names}}").split("\n")) {
                if (n.equals(app) || n.startsWith(app + ".migrated-")) {
                    dockerQuietly(host, "rm", "-f", n);
                }
            }
            dockerQuietly(host, "volume", "rm", "-f", app + "-data");
            for (String img : dockerQuietly(host, "images", "--format", "{{.Repository}}:{{.Tag}}").split("\n")) {
                if (img.contains(app)) {
                    dockerQuietly(host, "rmi", "-f", img);
                }
            }
        }
        for (Path dir : List.of(archiveA, archiveB)) {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    if (f.getFileName().toString().endsWith(".tar")) {
                        Files.deleteIfExists(f);
                    }
                }
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    /** Writes {@code size} bytes of incompressible data, from one 1 MiB buffer. */
    private static void writeFile(Path file, long size, long seed) throws IOException {
        byte[] block = new byte[(int) Math.min(size, MIB)];
        new Random(seed).nextBytes(block);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            long left = size;
            while (left > 0) {
                int n = (int) Math.min(left, block.length);
                ByteBuffer buf = ByteBuffer.wrap(block, 0, n);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                left -= n;
                block[(int) (left % block.length)] ^= 0x5a; // keep blocks distinct
            }
        }
    }

    private static void sync() throws Exception {
        new ProcessBuilder("sync").inheritIO().start().waitFor();
    }

    private static void delete(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static String docker(String host, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("docker", "-H", host));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    private static String dockerQuietly(String host, String... args) {
        try {
            return docker(host, args);
        } catch (IOException | InterruptedException e) {
            return "";
        }
    }
}
