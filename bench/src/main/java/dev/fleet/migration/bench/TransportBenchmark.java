package dev.fleet.migration.bench;

import dev.fleet.migration.core.contract.TransportContract;
import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.ProgressListener;
import dev.fleet.migration.core.spi.TransferRequest;
import dev.fleet.migration.core.spi.Transport;
import dev.fleet.migration.transport.RsyncTransport;
import dev.fleet.migration.transport.ScpTransport;
import dev.fleet.migration.transport.SharedDirectoryTransport;
import dev.fleet.migration.transport.SshSettings;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 4's speed figures: each transport against the program it competes with, on one file
 * over loopback, in the same run, and the peak heap of a child JVM ({@code -Xmx64m}) that sends
 * a 4 GiB file with each transport.
 *
 * <p>Needs the test sshd (ssh.sh's FLEET_TEST_SSH_* variables; bench/run.sh starts it) and, for
 * the defaults, about 9 GiB free under {@code java.io.tmpdir} and about 5 minutes. Sizes:
 * {@code -Dbench.transport.mib} (the speed file, default 1024), {@code -Dbench.transport.rounds}
 * (default 5), {@code -Dbench.transport.heapMiB} (the heap check's file, default 4096; 0 skips
 * it).
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
 *   <li>rsync: the exact argument list RsyncTransport spawns for a file
 *       ({@link RsyncTransport#commandLineForBenchmark}), minus what only serves its guarantees
 *       and its progress ({@code --info=progress2 --stats --no-human-readable --timeout}, and the
 *       {@code --rsync-path} preflight), with its own login instead of the shared connection,
 *       straight to the final name: same flags, same delta algorithm, no compression, same ssh
 *       options and cipher order;</li>
 *   <li>shared: {@code cp} (copy_file_range, no fsync).</li>
 * </ul>
 * The transports' times include what the baselines do not do: the preflight, one fsync of the
 * received file, its sha256 read back on the target, the rename and the directory sync. The
 * "bound" (in the target column) is the best ratio any design that hashes the received file
 * after it arrived could reach: baseline / (baseline + one {@code openssl dgst -sha256} of the
 * file), per round, median.
 *
 * <p>Heap. A child JVM ({@code -Xmx64m -XX:+UseG1GC}, {@link HeapProbe}) sends the big file
 * once with each transport while a thread samples the heap in use every 5 ms; the figure is
 * that sampled peak (target: under 64 MiB; the child failing, e.g. out of memory, misses it).
 * The sum of the heap pools' peaks and the old generation's peak are printed beside it.
 */
final class TransportBenchmark implements Benchmark {
    private static final Set<String> NOT_IN_BASELINE = Set.of("--info=progress2", "--stats", "--no-human-readable");
    private static final long HEAP_LIMIT_MIB = 64;
    private final long mib = Long.getLong("bench.transport.mib", 1024);
    private final int rounds = Integer.getInteger("bench.transport.rounds", 5);
    private final long heapMib = Long.getLong("bench.transport.heapMiB", 4096);

    @Override
    public String name() {
        return "transport";
    }

    @Override
    public List<String> services() {
        return List.of("ssh");
    }

    @Override
    public List<Figure> run() throws Exception {
        Env env = Env.require();
        List<Figure> figures = new ArrayList<>();
        Path work = Files.createTempDirectory("fleet-bench");
        try {
            Path target = Files.createDirectories(work.resolve("target"));
            Path source = TransportContract.randomFile(work.resolve("source.bin"), mib << 20, 42);
            String sha = TransportContract.sha256(source);
            figures.addAll(speed(env, source, sha, target));
            if (heapMib > 0) {
                Files.delete(source);
                figures.addAll(heap(work, target));
            }
        } finally {
            BenchApps.delete(work);
        }
        return figures;
    }

    // ---- speed ----

    private List<Figure> speed(Env env, Path source, String sha, Path target) throws Exception {
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
        for (String a : rsyncT.commandLineForBenchmark(forArgv, forArgv.remotePath())) {
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
                        () -> BenchApps.run(scp), () -> send(scpT, source, endpoint, target, "t-scp.bin", sha)),
                new Pair("RsyncTransport", "rsync, same argv minus extras", 0.95,
                        () -> BenchApps.run(rsync), () -> send(rsyncT, source, endpoint, target, "t-rsync.bin", sha)),
                new Pair("SharedDirectoryTransport", "cp", 0.90,
                        () -> BenchApps.run(cp), () -> send(sharedT, source, endpoint, target, "t-shared.bin", sha)));
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
            hashTimes[r] = timed(() -> BenchApps.run(hash), target);
            for (Pair p : pairs) {
                if (r % 2 == 0) {
                    p.baselineTimes[r] = timed(p.baseline, target);
                    p.transportTimes[r] = timed(p.transport, target);
                } else {
                    p.transportTimes[r] = timed(p.transport, target);
                    p.baselineTimes[r] = timed(p.baseline, target);
                }
            }
            System.out.printf("transport: round %d/%d done%n", r + 1, rounds);
        }

        double tHash = BenchApps.median(hashTimes);
        System.out.printf(Locale.ROOT, "%ntransport: %d MiB over loopback (sshd %s:%d), medians of %d interleaved rounds; "
                + "load average at the end %.1f on %d CPUs%n", mib, env.host, env.port, rounds,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                Runtime.getRuntime().availableProcessors());
        System.out.printf("%-26s %8s %9s %-30s %6s %9s %7s %6s %5s%n", "transport", "MiB/s", "baseline",
                "(baseline is)", "ratio", "(medians)", "target", "bound", "met");
        List<Figure> figures = new ArrayList<>();
        for (Pair p : pairs) {
            double tb = BenchApps.median(p.baselineTimes);
            double tt = BenchApps.median(p.transportTimes);
            double[] paired = new double[rounds];
            double[] bounds = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                paired[r] = p.baselineTimes[r] / p.transportTimes[r];
                bounds[r] = p.baselineTimes[r] / (p.baselineTimes[r] + hashTimes[r]);
            }
            double ratio = BenchApps.median(paired);
            double bound = BenchApps.median(bounds);
            System.out.printf(Locale.ROOT, "%-26s %8.1f %9.1f %-30s %6.2f %9.2f %7.2f %6.2f %5s%n", p.name, mib / tt,
                    mib / tb, p.baselineName, ratio, tb / tt, p.target, bound, ratio >= p.target ? "yes" : "NO");
            figures.add(new Figure("transport: throughput", p.name + ", " + mib + " MiB over loopback (medians of "
                    + rounds + " interleaved rounds; ratio: median of the per-round ratios)", mib / tt, "MiB/s",
                    mib / tb, p.baselineName, ratio,
                    String.format(Locale.ROOT, "≥ %.2f× baseline (bound for verify-after-arrival: %.2f×)", p.target,
                            bound),
                    ratio >= p.target));
        }
        System.out.printf(Locale.ROOT, "openssl dgst -sha256 of the file: %.2f s (%.0f MiB/s), the floor of one "
                + "verification pass%n", tHash, mib / tHash);
        System.out.println("transport: seconds per round (baseline / transport):");
        for (Pair p : pairs) {
            StringBuilder line = new StringBuilder();
            for (int r = 0; r < rounds; r++) {
                line.append(String.format(Locale.ROOT, " %.2f/%.2f", p.baselineTimes[r], p.transportTimes[r]));
            }
            System.out.printf("  %-26s%s%n", p.name, line);
        }
        System.out.println("transport: rsync baseline argv: " + String.join(" ", rsync));
        return figures;
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
        BenchApps.sync();
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

    // ---- heap ----

    private List<Figure> heap(Path work, Path target) throws Exception {
        Path big = TransportContract.randomFile(work.resolve("big.bin"), heapMib << 20, 4);
        String sha = TransportContract.sha256(big);
        System.out.printf("%ntransport: peak heap of a child JVM (-Xmx64m, G1) sending %d MiB; heap sampled every 5 ms:%n",
                heapMib);
        System.out.printf("%-26s %9s %14s %14s %12s %8s%n", "transport", "seconds", "peak sampled", "sum pool peaks",
                "old gen peak", "GCs");
        List<Figure> figures = new ArrayList<>();
        String metric = "peak heap sending " + heapMib + " MiB (child JVM -Xmx64m, G1, sampled every 5 ms)";
        String goal = "< " + HEAP_LIMIT_MIB + " MiB";
        for (String kind : List.of("scp", "rsync", "shared")) {
            List<String> argv = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                    "-XX:+UseG1GC", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                    "-cp", System.getProperty("java.class.path"), HeapProbe.class.getName(),
                    kind, big.toString(), target.toString(), sha);
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = p.waitFor();
            clear(target);
            String result = out.lines().filter(l -> l.startsWith("HEAP ")).findFirst().orElse(null);
            if (code != 0 || result == null) {
                System.out.printf("%-26s FAILED (exit %d): %s%n", kind, code, out.strip());
                figures.add(new Figure("transport: heap", kind + ": " + metric + ", FAILED (exit " + code + ")",
                        Double.NaN, "MiB", Double.NaN, "—", goal, false));
                continue;
            }
            String[] f = result.split(" ");
            double sampled = Long.parseLong(f[3]) / 1048576.0;
            System.out.printf(Locale.ROOT, "%-26s %9.1f %11.1f MiB %11.1f MiB %8.1f MiB %8s%n", f[1],
                    Double.parseDouble(f[2]), sampled, Long.parseLong(f[4]) / 1048576.0,
                    Long.parseLong(f[5]) / 1048576.0, f[6]);
            figures.add(new Figure("transport: heap", f[1] + ": " + metric, sampled, "MiB", Double.NaN, "—", goal,
                    sampled < HEAP_LIMIT_MIB));
        }
        Files.delete(big);
        return figures;
    }

    /** Runs in the child JVM: one transfer, then prints "HEAP name seconds sampledPeak poolPeaks oldPeak gcs". */
    static final class HeapProbe {
        private HeapProbe() {}

        /** Arguments: scp|rsync|shared, the file, the target directory, the file's sha256. */
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
            System.out.printf(Locale.ROOT, "HEAP %s %.2f %d %d %d %d%n", t.getClass().getSimpleName(), seconds,
                    sampled.get(), pools, old, gcs);
        }
    }

    // ---- shared ----

    private static TransferRequest request(Path source, Endpoint endpoint, Path target, String name, String sha) {
        return new TransferRequest(source, endpoint, target.toString(), name, Optional.of(sha), OptionalLong.empty());
    }

    private static void send(Transport t, Path source, Endpoint endpoint, Path target, String name, String sha) {
        t.transfer(request(source, endpoint, target, name, sha), ProgressListener.NONE, new Cancellation());
    }

    private record Env(String host, int port, String user, Path key, Path knownHosts) {
        static Env require() {
            return new Env(BenchApps.env("FLEET_TEST_SSH_HOST"), Integer.parseInt(BenchApps.env("FLEET_TEST_SSH_PORT")),
                    BenchApps.env("FLEET_TEST_SSH_USER"), Path.of(BenchApps.env("FLEET_TEST_SSH_KEY")),
                    Path.of(BenchApps.env("FLEET_TEST_SSH_KNOWN_HOSTS")));
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
    }
}
