package dev.fleet.migration.bench;

import static dev.fleet.migration.bench.BenchApps.MIB;

import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.NoopProxyRouter;
import dev.fleet.migration.docker.DockerEndpoint;
import dev.fleet.migration.docker.DockerNodeAgent;
import dev.fleet.migration.transport.RsyncTransport;
import dev.fleet.migration.transport.SshSettings;
import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Migration time against volume size, for the plot issue 8 asks for: one app whose volume holds
 * one file of incompressible data (256 MiB to 4 GiB by default; {@code -Dbench.scale.sizesMiB}),
 * moved between the two real Docker engines by the whole pipeline (create to DONE: preflight,
 * snapshot, rsync over ssh to 127.0.0.1, verify, restore, cutover), beside the baseline an
 * operator would script by hand: {@code tar -c | ssh … tar -x} of the same volume over the same
 * sshd. Writes {@code migration-time.png} next to the report.
 */
final class ScaleBenchmark implements Benchmark {
    // docker.sh's and ssh.sh's variables, read when the benchmark runs
    private String dockerA;
    private String dockerB;
    private String image;
    private Path archiveA;
    private Path archiveB;
    private String sshHost;
    private int sshPort;
    private String sshUser;
    private Path sshKey;
    private Path knownHosts;
    private final List<Long> sizes = Arrays.stream(System.getProperty("bench.scale.sizesMiB", "256,512,1024,2048,4096")
            .split(",")).map(String::strip).map(Long::parseLong).toList();

    @Override
    public String name() {
        return "scale";
    }

    @Override
    public List<String> services() {
        return List.of("docker", "ssh");
    }

    @Override
    public List<Figure> run() throws Exception {
        dockerA = BenchApps.env("FLEET_TEST_DOCKER_A");
        dockerB = BenchApps.env("FLEET_TEST_DOCKER_B");
        image = BenchApps.env("FLEET_TEST_IMAGE");
        archiveA = Path.of(BenchApps.env("FLEET_TEST_ARCHIVE_A"));
        archiveB = Path.of(BenchApps.env("FLEET_TEST_ARCHIVE_B"));
        sshHost = BenchApps.env("FLEET_TEST_SSH_HOST");
        sshPort = Integer.parseInt(BenchApps.env("FLEET_TEST_SSH_PORT"));
        sshUser = BenchApps.env("FLEET_TEST_SSH_USER");
        sshKey = Path.of(BenchApps.env("FLEET_TEST_SSH_KEY"));
        knownHosts = Path.of(BenchApps.env("FLEET_TEST_SSH_KNOWN_HOSTS"));
        List<Figure> figures = new ArrayList<>();
        List<double[]> fleet = new ArrayList<>();
        List<double[]> baseline = new ArrayList<>();
        for (long mib : sizes) {
            String app = BenchApps.appName("scale");
            try {
                Path mp = BenchApps.deploy(dockerA, image, app, m -> BenchApps.writeFile(m.resolve("data.bin"),
                        mib * MIB, mib));
                BenchApps.sync();
                double tarSsh = tarOverSsh(mp);
                BenchApps.sync();
                double migration = migrate(app);
                System.out.printf("scale: %d MiB: tar | ssh tar -x %.2f s; migration (create to done) %.2f s%n",
                        mib, tarSsh, migration);
                fleet.add(new double[] {mib, migration});
                baseline.add(new double[] {mib, tarSsh});
                figures.add(new Figure("scale: migration time", mib + " MiB volume, create to done", migration, "s",
                        tarSsh, "tar -c | ssh tar -x", "—", true));
            } finally {
                BenchApps.cleanUp(app, List.of(dockerA, dockerB), List.of(archiveA, archiveB));
            }
        }
        Path png = Path.of(System.getProperty("bench.out", "bench/results")).resolve("migration-time.png");
        new Plot("Migration time against volume size (loopback, one file)", "volume size (MiB)", "seconds")
                .add(new Plot.Series("fleet: whole migration (rsync over ssh, verify, restore, cutover)", fleet,
                        new Color(0, 102, 204), false))
                .add(new Plot.Series("baseline: tar -c | ssh tar -x", baseline, new Color(204, 51, 0), true))
                .write(png);
        System.out.println("written: " + png);
        return figures;
    }

    private double tarOverSsh(Path mountpoint) throws Exception {
        Path dest = Files.createTempDirectory(archiveB, "tar-ssh");
        try {
            long t0 = System.nanoTime();
            BenchApps.pipeline(List.of(
                    List.of("tar", "-c", "-C", mountpoint.toString(), "--", "."),
                    List.of("ssh", "-i", sshKey.toString(), "-p", String.valueOf(sshPort),
                            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                            "-o", "UserKnownHostsFile=" + knownHosts, sshUser + "@" + sshHost,
                            "tar", "-x", "-C", dest.toString())));
            return (System.nanoTime() - t0) / 1e9;
        } finally {
            BenchApps.delete(dest);
        }
    }

    private double migrate(String app) throws Exception {
        SshSettings ssh = new SshSettings(sshKey, knownHosts);
        Endpoint peer = new Endpoint(sshHost, sshPort, sshUser);
        try (DockerNodeAgent a = agent("a", dockerA, archiveA, ssh, "b", peer, archiveB);
             DockerNodeAgent b = agent("b", dockerB, archiveB, ssh, "a", peer, archiveA);
             Orchestrator orchestrator = Orchestrator.builder().store(new InMemoryMigrationStore())
                     .node(a, "127.0.0.1").node(b, "127.0.0.2").router(new NoopProxyRouter())
                     .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ZERO)).build()) {
            long t0 = System.nanoTime();
            Migration m = orchestrator.create(app, "a", "b");
            while (!m.isTerminal()) {
                Thread.sleep(20);
                m = orchestrator.advance(m.id());
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (m.state() != MigrationState.DONE) {
                throw new IllegalStateException("the benchmark migration of " + app + " failed: " + m.failure());
            }
            StringBuilder steps = new StringBuilder();
            m.operations().forEach((kind, span) -> steps.append(' ').append(kind.wireName()).append(' ')
                    .append(span.duration().map(d -> String.format(java.util.Locale.ROOT, "%.2f s", d.toNanos() / 1e9))
                            .orElse("?")));
            System.out.println("scale: " + app + " operations:" + steps);
            return seconds;
        }
    }

    private static DockerNodeAgent agent(String id, String docker, Path archive, SshSettings ssh, String peerId,
                                         Endpoint peer, Path peerArchive) {
        return DockerNodeAgent.builder().node(NodeId.of(id)).docker(DockerEndpoint.unix(docker))
                .archiveDirectory(archive).transport(RsyncTransport.builder(ssh).build())
                .peer(NodeId.of(peerId), new DockerNodeAgent.Peer(peer, peerArchive.toString()))
                .build();
    }
}
