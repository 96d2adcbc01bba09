package dev.fleet.migration.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Apps for the benchmarks that migrate through real Docker engines: deploy one container with a
 * named volume filled by the caller, clean both engines and archive directories afterwards, and
 * the docker CLI and file helpers that go with it. Spawns programs with argument lists only.
 */
final class BenchApps {
    static final long MIB = 1024 * 1024;

    private BenchApps() {}

    interface Filler {
        void fill(Path mountpoint) throws IOException;
    }

    static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException(name + " is not set: run the benchmark through bench/run.sh");
        }
        return v;
    }

    /** A fresh app name, distinct across runs. */
    static String appName(String prefix) {
        return prefix + "-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
    }

    /** Creates {@code <app>-data}, fills it, and runs the app with it on {@code host}; returns the mountpoint. */
    static Path deploy(String host, String image, String app, Filler filler) throws Exception {
        docker(host, "volume", "create", app + "-data");
        Path mp = Path.of(docker(host, "volume", "inspect", "--format", "{{.Mountpoint}}", app + "-data"));
        filler.fill(mp);
        docker(host, "run", "-d", "--init", "--name", app, "--network", "none", "-v", app + "-data:/data",
                image, "sleep", "1000000");
        return mp;
    }

    /** Removes the app's containers (retired ones too), volume, images and every archive. */
    static void cleanUp(String app, List<String> hosts, List<Path> archiveDirs) {
        for (String host : hosts) {
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
        for (Path dir : archiveDirs) {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    String name = f.getFileName().toString();
                    if (name.endsWith(".tar") || name.endsWith(".fence")) {
                        Files.deleteIfExists(f);
                    }
                }
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    /** Writes {@code size} bytes of incompressible data, from one 1 MiB buffer. */
    static void writeFile(Path file, long size, long seed) throws IOException {
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

    static void sync() throws Exception {
        new ProcessBuilder("sync").inheritIO().start().waitFor();
    }

    static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Runs a pipeline of programs and fails unless every one exits 0. */
    static void pipeline(List<List<String>> commands) throws IOException, InterruptedException {
        List<ProcessBuilder> builders = new ArrayList<>();
        for (List<String> c : commands) {
            builders.add(new ProcessBuilder(c).redirectError(ProcessBuilder.Redirect.INHERIT));
        }
        builders.get(builders.size() - 1).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        for (Process p : ProcessBuilder.startPipeline(builders)) {
            if (p.waitFor() != 0) {
                throw new IOException("failed (exit " + p.exitValue() + "): " + p.info().commandLine().orElse("?"));
            }
        }
    }

    /** Runs one program to the end, its output discarded, its errors passed through; fails unless it exits 0. */
    static void run(List<String> argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", argv) + " failed (exit " + p.exitValue() + ")");
        }
    }

    /** Runs one program to the end and returns how many bytes it wrote to stdout; fails unless it exits 0. */
    static long countOutput(List<String> argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        long n = 0;
        byte[] buf = new byte[64 * 1024];
        try (var in = p.getInputStream()) {
            for (int r; (r = in.read(buf)) >= 0; ) {
                n += r;
            }
        }
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", argv) + " failed (exit " + p.exitValue() + ")");
        }
        return n;
    }

    /** The median (the mean of the middle two for an even count). */
    static double median(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** Nearest-rank percentile (with 10 samples p50 is the 5th smallest, p95 the largest). */
    static <T extends Comparable<T>> T percentile(List<T> values, double p) {
        List<T> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size(), rank) - 1));
    }

    static String docker(String host, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("docker", "-H", host));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    static String dockerQuietly(String host, String... args) {
        try {
            return docker(host, args);
        } catch (IOException | InterruptedException e) {
            return "";
        }
    }
}
