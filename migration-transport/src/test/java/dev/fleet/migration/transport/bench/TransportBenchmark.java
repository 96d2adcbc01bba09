package dev.fleet.migration.transport.bench;

import dev.fleet.migration.core.contract.TransportContract;
import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.ProgressListener;
import dev.fleet.migration.core.spi.TransferRequest;
import dev.fleet.migration.core.spi.Transport;
import dev.fleet.migration.transport.RemoteHash;
import dev.fleet.migration.transport.RsyncTransport;
import dev.fleet.migration.transport.ScpTransport;
import dev.fleet.migration.transport.SharedDirectoryTransport;
import dev.fleet.migration.transport.SshSettings;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Measures the transports against the programs they compete with, on one file over loopback,
 * in the same run: ScpTransport vs OpenSSH scp, RsyncTransport vs the plain rsync command it
 * wraps, SharedDirectoryTransport vs cp. Each is run {@code rounds} times; the best time counts.
 * The transports' times include their verification (sha256 on the target) and fsync; the
 * plain programs do neither, so the ratios are conservative.
 *
 * <p>Needs the test sshd (scripts/ci/services/ssh.sh up) and its FLEET_TEST_SSH_* variables.
 * Arguments: [size in MiB, default 1024] [rounds, default 2]. Run it with -Xmx64m to show the
 * transports stream in constant memory.
 */
public final class TransportBenchmark {
    private TransportBenchmark() {}

    public static void main(String[] args) throws Exception {
        long mib = args.length > 0 ? Long.parseLong(args[0]) : 1024;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        String host = env("FLEET_TEST_SSH_HOST");
        int port = Integer.parseInt(env("FLEET_TEST_SSH_PORT"));
        String user = env("FLEET_TEST_SSH_USER");
        Path key = Path.of(env("FLEET_TEST_SSH_KEY"));
        Path knownHosts = Path.of(env("FLEET_TEST_SSH_KNOWN_HOSTS"));
        Path work = Files.createTempDirectory("fleet-bench");
        Path target = Files.createDirectories(work.resolve("target"));
        Path source = TransportContract.randomFile(work.resolve("source.bin"), mib << 20, 42);
        String sha = TransportContract.sha256(source);
        Endpoint endpoint = new Endpoint(host, port, user);
        SshSettings ssh = new SshSettings(key, knownHosts);
        List<String> sshOpts = List.of("-F", "/dev/null", "-i", key.toString(), "-o", "IdentitiesOnly=yes",
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts);
        String remote = user + "@" + host + ":" + target + "/";

        List<String> scp = new ArrayList<>(List.of("scp", "-q", "-P", String.valueOf(port)));
        scp.addAll(sshOpts);
        scp.addAll(List.of("--", source.toString(), remote + "scp.bin"));
        List<String> rsync = List.of("rsync", "-e", "ssh -p " + port + " " + String.join(" ", sshOpts), "--",
                source.toString(), remote + "rsync.bin");
        List<String> cp = List.of("cp", "--", source.toString(), target.resolve("cp.bin").toString());

        Transport scpT = ScpTransport.builder(ssh).build();
        Transport scpTo = ScpTransport.builder(ssh).remoteHash(RemoteHash.OPENSSL).build();
        Transport rsyncT = RsyncTransport.builder(ssh).build();
        Transport rsyncTo = RsyncTransport.builder(ssh).remoteHash(RemoteHash.OPENSSL).build();
        Transport sharedT = SharedDirectoryTransport.builder().build();

        double tScp = best(rounds, () -> run(scp), target);
        double tScpT = best(rounds, () -> send(scpT, source, endpoint, target, "t-scp.bin", sha), target);
        double tScpTo = best(rounds, () -> send(scpTo, source, endpoint, target, "t-scp-o.bin", sha), target);
        double tRsync = best(rounds, () -> run(rsync), target);
        double tRsyncT = best(rounds, () -> send(rsyncT, source, endpoint, target, "t-rsync.bin", sha), target);
        double tRsyncTo = best(rounds, () -> send(rsyncTo, source, endpoint, target, "t-rsync-o.bin", sha), target);
        double tCp = best(rounds, () -> run(cp), target);
        double tShared = best(rounds, () -> send(sharedT, source, endpoint, target, "t-shared.bin", sha), target);

        System.out.printf("%nfile: %d MiB, best of %d, loopback sshd on port %d%n", mib, rounds, port);
        line("OpenSSH scp", tScp, mib);
        line("ScpTransport (sha256sum on target)", tScpT, mib);
        line("ScpTransport (openssl on target)", tScpTo, mib);
        line("rsync -e ssh", tRsync, mib);
        line("RsyncTransport (sha256sum on target)", tRsyncT, mib);
        line("RsyncTransport (openssl on target)", tRsyncTo, mib);
        line("cp", tCp, mib);
        line("SharedDirectoryTransport", tShared, mib);
        System.out.printf("%nratios (throughput, transport / program; issue 4 asks >= 0.85, 0.95, 0.9):%n");
        System.out.printf("  ScpTransport / scp        %.2f (sha256sum)  %.2f (openssl)%n", tScp / tScpT, tScp / tScpTo);
        System.out.printf("  RsyncTransport / rsync    %.2f (sha256sum)  %.2f (openssl)%n", tRsync / tRsyncT,
                tRsync / tRsyncTo);
        System.out.printf("  SharedDirectory / cp      %.2f%n", tCp / tShared);
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        System.out.printf("peak heap (sum of pool peaks): %.1f MiB, max heap %d MiB%n", peak / 1048576.0,
                Runtime.getRuntime().maxMemory() >> 20);
        try (var walk = Files.walk(work)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    interface Step {
        void run() throws Exception;
    }

    private static double best(int rounds, Step step, Path target) throws Exception {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < rounds; i++) {
            try (var list = Files.list(target)) {
                for (Path p : (Iterable<Path>) list::iterator) {
                    Files.delete(p);
                }
            }
            long t0 = System.nanoTime();
            step.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }

    private static void send(Transport t, Path source, Endpoint endpoint, Path target, String name, String sha) {
        t.transfer(new TransferRequest(source, endpoint, target.toString(), name, Optional.of(sha),
                OptionalLong.empty()), ProgressListener.NONE, new Cancellation());
    }

    private static void run(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(argv.get(0) + " failed");
        }
    }

    private static void line(String what, double seconds, long mib) {
        System.out.printf("  %-40s %7.2f s  %8.1f MiB/s%n", what, seconds, mib / seconds);
    }

    private static String env(String name) {
        String v = System.getenv(name);
        if (v == null) {
            throw new IllegalStateException(name + " is not set: run `bash scripts/ci/services/ssh.sh up /tmp/fleet-test`"
                    + " and `source /tmp/fleet-test/ssh.env` (or scripts/test.sh)");
        }
        return v;
    }
}
