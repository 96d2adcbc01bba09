package dev.fleet.migration.transport.bench;

import dev.fleet.migration.core.contract.TransportContract;
import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.ProgressListener;
import dev.fleet.migration.core.spi.TransferRequest;
import dev.fleet.migration.core.spi.Transport;
import dev.fleet.migration.transport.BenchmarkAccess;
import dev.fleet.migration.transport.RsyncTransport;
import dev.fleet.migration.transport.ScpTransport;
import dev.fleet.migration.transport.SharedDirectoryTransport;
import dev.fleet.migration.transport.SshSettings;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 4's speed figures: each transport against the program it competes with, on one file
 * over loopback, in the same run, and the peak heap of a child JVM ({@code -Xmx64m}) that sends
 * a 4 GiB file with each transport.
 *
 * <p>Run it (needs the test sshd and its FLEET_TEST_SSH_* variables, about 4 minutes for the
 * defaults):
 * <pre>
 * for f in /tmp/fleet-test/*.env; do source $f; done
 * mvn -B -q -ntp -o -pl migration-transport test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp migration-transport/target/classes:migration-transport/target/test-classes:$(cat migration-transport/target/cp.txt) \
 *     dev.fleet.migration.transport.bench.TransportBenchmark [MiB=1024] [rounds=5] [heap MiB=4096, 0 skips]
 * </pre>
 *
 * <p>Method. Each round runs every baseline and every transport once, alternating which of a
 * pair goes first; between two steps the target file is deleted and {@code sync} run (untimed),
 * so no step pays for another's dirty pages. The machine is shared, so the load drifts from
 * round to round: the "ratio" column is the median over rounds of (baseline time / transport
 * time) in the same round, a paired throughput ratio that the drift mostly cancels out of; the
 * ratio of the median times is printed beside it. The baselines:
 * <ul>
 *   <li>scp: OpenSSH {@code scp} (SFTP mode) with the cipher jsch negotiates
 *       ({@code aes128-gcm@openssh.com}) and the same strict ssh options;</li>
 *   <li>rsync: the exact argument list RsyncTransport spawns for a file, minus what only serves
 *       its guarantees and its progress ({@code --info=progress2 --stats --no-human-readable
 *       --timeout}, and the {@code --rsync-path} preflight), with its own login instead of the
 *       shared connection, straight to the final name: same flags, same delta algorithm, no
 *       compression, same ssh options and cipher order;</li>
 *   <li>shared: {@code cp} (copy_file_range, no fsync).</li>
 * </ul>
 * The transports' times include what the baselines do not do: the preflight, one fsync of the
 * received file, its sha256 read back on the target, the rename and the directory sync. The
 * "bound" column is the best ratio any design that hashes the received file after it arrived
 * could reach: baseline / (baseline + one {@code openssl dgst -sha256} of the file), per round,
 * median.
 */
public final class TransportBenchmark {
    private static final Set<String> NOT_IN_BASELINE = Set.of("--info=progress2", "--stats", "--no-human-readable");

    private TransportBenchmark() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("heap-probe")) {
            HeapProbe.main(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        long mib = args.length > 0 ? Long.parseLong(args[0]) : 1024;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        long heapMib = args.length > 2 ? Long.parseLong(args[2]) : 4096;
        Env env = Env.require();
        Path work = Files.createTempDirectory("fleet-bench");
        try {
            Path target = Files.createDirectories(work.resolve("target"));
            Path source = TransportContract.randomFile(work.resolve("source.bin"), mib << 20, 42);
            String sha = TransportContract.sha256(source);
            speed(env, source, sha, target, mib, rounds);
            if (heapMib > 0) {
                Files.delete(source);
                heap(env, work, target, heapMib);
            }
        } finally {
            deleteTree(work);
        }
    }

    // ---- speed ----

    private static void speed(Env env, Path source, String sha, Path target, long mib, int rounds) throws Exception {
        Endpoint endpoint = env.endpoint();
        SshSettings ssh = env.settings();
        String remote = env.user + "@" + env.host + ":" + target + "/";

        List<String> scp = new ArrayList<>(List.of("scp", "-q", "-P", String.valueOf(env.port),
                "-c", "aes128-gcm@openssh.com"));
        scp.addAll(env.sshOptions());
        scp.addAll(List.of("--", source.toString(), remote + "b-scp.bin"));

        RsyncTransport rsyncT = RsyncTransport.builder(ssh).build();
        TransferRequest forArgv = request(source, endpoint, target, "b-rsync.bin", sha);
        List<String> rsync = new ArrayList<>();
        for (String a : BenchmarkAccess.rsyncArgv(rsyncT, forArgv, forArgv.remotePath())) {
            if (!NOT_IN_BASELINE.contains(a) && !a.startsWith("--timeout=") && !a.startsWith("--rsync-path=")) {
                rsync.add(a);
            }
        }
        List<String> cp = List.of("cp", "--", source.toString(), target.resolve("b-cp.bin").toString());
        List<String> hash = List.of("openssl", "dgst", "-sha256", "-r", source.toString());

        Transport scpT = ScpTransport.builder(ssh).build();
        Transport sharedT = SharedDirectoryTransport.builder().build();

        List<Pair> pairs = List.of(
                new Pair("ScpTransport", "OpenSSH scp", 0.85,
                        () -> run(scp), () -> send(scpT, source, endpoint, target, "t-scp.bin", sha)),
                new Pair("RsyncTransport", "rsync, same argv minus extras", 0.95,
                        () -> run(rsync), () -> send(rsyncT, source, endpoint, target, "t-rsync.bin", sha)),
                new Pair("SharedDirectoryTransport", "cp", 0.90,
                        () -> run(cp), () -> send(sharedT, source, endpoint, target, "t-shared.bin", sha)));
        double[] hashTimes = new double[rounds];
        for (Pair p : pairs) {
            p.baselineTimes = new double[rounds];
            p.transportTimes = new double[rounds];
        }

        // one unmeasured pass warms the JIT, the page cache and sshd
        for (Pair p : pairs) {
            timed(p.transport, target);
        }
        for (int r = 0; r < rounds; r++) {
            hashTimes[r] = timed(() -> run(hash), target);
            for (Pair p : pairs) {
                if (r % 2 == 0) {
                    p.baselineTimes[r] = timed(p.baseline, target);
                    p.transportTimes[r] = timed(p.transport, target);
                } else {
                    p.transportTimes[r] = timed(p.transport, target);
                    p.baselineTimes[r] = timed(p.baseline, target);
                }
            }
            System.out.printf("round %d/%d done%n", r + 1, rounds);
        }

        double tHash = median(hashTimes);
        System.out.printf("%n%d MiB over loopback (sshd 127.0.0.1:%d), medians of %d interleaved rounds; "
                + "load average at the end %.1f on %d CPUs%n", mib, env.port, rounds,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                Runtime.getRuntime().availableProcessors());
        System.out.printf("%-26s %8s %9s %-30s %6s %9s %7s %6s %5s%n", "transport", "MiB/s", "baseline",
                "(baseline is)", "ratio", "(medians)", "target", "bound", "met");
        for (Pair p : pairs) {
            double tb = median(p.baselineTimes);
            double tt = median(p.transportTimes);
            double[] paired = new double[rounds];
            double[] bounds = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                paired[r] = p.baselineTimes[r] / p.transportTimes[r];
                bounds[r] = p.baselineTimes[r] / (p.baselineTimes[r] + hashTimes[r]);
            }
            double ratio = median(paired);
            System.out.printf("%-26s %8.1f %9.1f %-30s %6.2f %9.2f %7.2f %6.2f %5s%n", p.name, mib / tt, mib / tb,
                    p.baselineName, ratio, tb / tt, p.target, median(bounds), ratio >= p.target ? "yes" : "NO");
        }
        System.out.printf("openssl dgst -sha256 of the file: %.2f s (%.0f MiB/s), the floor of one verification pass%n",
                tHash, mib / tHash);
        System.out.println("seconds per round (baseline / transport):");
        for (Pair p : pairs) {
            StringBuilder line = new StringBuilder();
            for (int r = 0; r < rounds; r++) {
                line.append(String.format(" %.2f/%.2f", p.baselineTimes[r], p.transportTimes[r]));
            }
            System.out.printf("  %-26s%s%n", p.name, line);
        }
        System.out.println("rsync baseline argv: " + String.join(" ", rsync));
    }

    private static final class Pair {
        final String name;
        final String baselineName;
        final double target;
        final Step baseline;
        final Step transport;
        double[] baselineTimes;
        double[] transportTimes;

        Pair(String name, String baselineName, double target, Step baseline, Step transport) {
            this.name = name;
            this.baselineName = baselineName;
            this.target = target;
            this.baseline = baseline;
            this.transport = transport;
        }
    }

    interface Step {
        void run() throws Exception;
    }

    private static double timed(Step step, Path target) throws Exception {
        clear(target);
        run(List.of("sync"));
        long t0 = System.nanoTime();
        step.run();
        double seconds = (System.nanoTime() - t0) / 1e9;
        clear(target);
        return seconds;
    }

    private static void clear(Path target) throws IOException {
        try (var list = Files.list(target)) {
            for (Path p : (Iterable<Path>) list::iterator) {
                Files.delete(p);
            }
        }
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    // ---- heap ----

    private static void heap(Env env, Path work, Path target, long mib) throws Exception {
        Path big = TransportContract.randomFile(work.resolve("big.bin"), mib << 20, 4);
        String sha = TransportContract.sha256(big);
        System.out.printf("%nPeak heap of a child JVM (-Xmx64m, G1) sending %d MiB; heap sampled every 5 ms:%n", mib);
        System.out.printf("%-26s %9s %14s %14s %12s %8s%n", "transport", "seconds", "peak sampled", "sum pool peaks",
                "old gen peak", "GCs");
        for (String kind : List.of("scp", "rsync", "shared")) {
            List<String> argv = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                    "-XX:+UseG1GC", "-cp", System.getProperty("java.class.path"), TransportBenchmark.class.getName(),
                    "heap-probe", kind, big.toString(), target.toString(), sha);
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            int code = p.waitFor();
            clear(target);
            String result = out.lines().filter(l -> l.startsWith("HEAP ")).findFirst().orElse(null);
            if (code != 0 || result == null) {
                System.out.printf("%-26s FAILED (exit %d): %s%n", kind, code, out.strip());
                continue;
            }
            String[] f = result.split(" ");
            System.out.printf("%-26s %9.1f %11.1f MiB %11.1f MiB %8.1f MiB %8s%n", f[1], Double.parseDouble(f[2]),
                    Long.parseLong(f[3]) / 1048576.0, Long.parseLong(f[4]) / 1048576.0,
                    Long.parseLong(f[5]) / 1048576.0, f[6]);
        }
        Files.delete(big);
    }

    /** Runs in the child JVM: one transfer, then prints "HEAP name seconds sampledPeak poolPeaks oldPeak gcs". */
    static final class HeapProbe {
        private HeapProbe() {}

        public static void main(String[] args) throws Exception {
            Env env = Env.require();
            String kind = args[0];
            Path file = Path.of(args[1]);
            Path target = Path.of(args[2]);
            Transport t = switch (kind) {
                case "scp" -> ScpTransport.builder(env.settings()).build();
                case "rsync" -> RsyncTransport.builder(env.settings()).build();
                default -> SharedDirectoryTransport.builder().build();
            };
            AtomicLong sampled = new AtomicLong();
            Thread sampler = new Thread(() -> {
                var memory = ManagementFactory.getMemoryMXBean();
                while (!Thread.currentThread().isInterrupted()) {
                    sampled.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            sampler.setDaemon(true);
            sampler.start();
            long t0 = System.nanoTime();
            send(t, file, env.endpoint(), target, "heap.bin", args[3]);
            double seconds = (System.nanoTime() - t0) / 1e9;
            sampler.interrupt();
            long pools = 0;
            long old = 0;
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                if (pool.getType() == MemoryType.HEAP) {
                    pools += pool.getPeakUsage().getUsed();
                    if (pool.getName().contains("Old")) {
                        old = pool.getPeakUsage().getUsed();
                    }
                }
            }
            long gcs = ManagementFactory.getGarbageCollectorMXBeans().stream()
                    .mapToLong(g -> Math.max(0, g.getCollectionCount())).sum();
            System.out.printf("HEAP %s %.2f %d %d %d %d%n", t.getClass().getSimpleName(), seconds, sampled.get(), pools,
                    old, gcs);
        }
    }

    // ---- shared ----

    private static TransferRequest request(Path source, Endpoint endpoint, Path target, String name, String sha) {
        return new TransferRequest(source, endpoint, target.toString(), name, Optional.of(sha), OptionalLong.empty());
    }

    private static void send(Transport t, Path source, Endpoint endpoint, Path target, String name, String sha) {
        t.transfer(request(source, endpoint, target, name, sha), ProgressListener.NONE, new Cancellation());
    }

    private static void run(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(argv.get(0) + " failed");
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    private record Env(String host, int port, String user, Path key, Path knownHosts) {
        static Env require() {
            return new Env(env("FLEET_TEST_SSH_HOST"), Integer.parseInt(env("FLEET_TEST_SSH_PORT")),
                    env("FLEET_TEST_SSH_USER"), Path.of(env("FLEET_TEST_SSH_KEY")),
                    Path.of(env("FLEET_TEST_SSH_KNOWN_HOSTS")));
        }

        Endpoint endpoint() {
            return new Endpoint(host, port, user);
        }

        SshSettings settings() {
            return new SshSettings(key, knownHosts);
        }

        List<String> sshOptions() {
            return List.of("-F", "/dev/null", "-i", key.toString(), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                    "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts);
        }

        private static String env(String name) {
            String v = System.getenv(name);
            if (v == null) {
                throw new IllegalStateException(name + " is not set: run `bash scripts/ci/services/ssh.sh up "
                        + "/tmp/fleet-test` and `source /tmp/fleet-test/ssh.env` (or scripts/test.sh)");
            }
            return v;
        }
    }
}
