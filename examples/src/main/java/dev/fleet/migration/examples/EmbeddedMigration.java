package dev.fleet.migration.examples;

import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.Progress;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.MigrationStore;
import dev.fleet.migration.core.spi.NoopProxyRouter;
import dev.fleet.migration.core.spi.ProxyRouter;
import dev.fleet.migration.docker.DockerEndpoint;
import dev.fleet.migration.docker.DockerNodeAgent;
import dev.fleet.migration.store.jdbc.SqliteMigrationStore;
import dev.fleet.migration.transport.SharedDirectoryTransport;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * Embedding the library in-process, with no HTTP: two Docker engines, one migration, progress
 * printed. Both engines are on this machine, so archives travel through a shared directory;
 * on two machines, use {@code RsyncTransport} or {@code ScpTransport} and each node's own
 * archive directory.
 *
 * <pre>
 * java dev.fleet.migration.examples.EmbeddedMigration \
 *     unix:///run/a/docker.sock /var/lib/fleet/a unix:///run/b/docker.sock /var/lib/fleet/b web
 * </pre>
 */
public final class EmbeddedMigration {
    /** One node: its id, its Docker endpoint, its archive directory, and where the proxy reaches its apps. */
    public record Node(String id, String docker, Path archiveDir, String upstreamHost) {
        public Node {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(docker, "docker");
            Objects.requireNonNull(archiveDir, "archiveDir");
            Objects.requireNonNull(upstreamHost, "upstreamHost");
        }
    }

    private final Node a;
    private final Node b;
    private final MigrationStore store;
    private final ProxyRouter router;

    public EmbeddedMigration(Node a, Node b, MigrationStore store, ProxyRouter router) {
        this.a = a;
        this.b = b;
        this.store = store;
        this.router = router;
    }

    /** Moves {@code app} from node {@code from} to node {@code to}, printing progress; returns the ended migration. */
    public Migration migrate(String app, String from, String to, PrintStream out) throws InterruptedException {
        try (DockerNodeAgent agentA = agent(a, b); DockerNodeAgent agentB = agent(b, a);
             Orchestrator orchestrator = Orchestrator.builder()
                     .store(store)
                     .node(agentA, a.upstreamHost())
                     .node(agentB, b.upstreamHost())
                     .router(router)
                     .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ofMillis(200)))
                     .build()
                     .start()) {
            Migration m = orchestrator.create(app, from, to);
            out.printf("migration %s: %s from %s to %s%n", m.id(), m.app(), from, to);
            String last = "";
            while (!m.isTerminal()) {
                Thread.sleep(200);
                m = orchestrator.get(m.id());
                String line = describe(m);
                if (!line.equals(last)) {
                    out.println(line);
                    last = line;
                }
            }
            if (m.state() == MigrationState.DONE) {
                out.printf("done: %s now runs on %s; cutover downtime %d ms%n", m.app(), to,
                        m.downtime().map(Duration::toMillis).orElse(-1L));
            } else {
                out.printf("failed in %s: %s%n", m.failure().get().failedIn(), m.failure().get().reason());
            }
            return m;
        }
    }

    /** One line of progress: state, bytes, rate. */
    static String describe(Migration m) {
        Progress p = m.progress();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  %-12s", m.state().wireName()));
        if (p.bytesTotal() > 0) {
            sb.append(String.format(Locale.ROOT, " %5.1f%%  %s of %s  %s/s", 100 * p.fraction(),
                    bytes(p.bytesDone()), bytes(p.bytesTotal()), bytes((long) p.bytesPerSecond())));
        }
        m.detail().ifPresent(d -> sb.append("  (").append(d).append(')'));
        return sb.toString();
    }

    static String bytes(long n) {
        return dev.fleet.migration.core.ByteSizes.of(n);
    }

    static DockerNodeAgent agent(Node self, Node peer) {
        return DockerNodeAgent.builder()
                .node(NodeId.of(self.id()))
                .docker(DockerEndpoint.unix(self.docker()))
                .archiveDirectory(self.archiveDir())
                // both archive directories are on this machine: a shared-directory transfer
                .transport(SharedDirectoryTransport.builder().build())
                .peer(NodeId.of(peer.id()), new DockerNodeAgent.Peer(new Endpoint("127.0.0.1", 22, "root"),
                        peer.archiveDir().toString()))
                // both engines share this machine's loopback: the source holds the port the target will use
                .probeHostPorts(false)
                .stopTimeout(Duration.ofSeconds(5))
                .build();
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5 && args.length != 6) {
            System.err.println("usage: EmbeddedMigration DOCKER_A ARCHIVE_A DOCKER_B ARCHIVE_B APP [STORE_FILE]");
            System.exit(2);
        }
        Node a = new Node("a", args[0], Path.of(args[1]), "127.0.0.1");
        Node b = new Node("b", args[2], Path.of(args[3]), "127.0.0.2");
        Path storeFile = Path.of(args.length == 6 ? args[5] : "fleet-example.db");
        try (SqliteMigrationStore store = SqliteMigrationStore.open(storeFile)) {
            Migration m = new EmbeddedMigration(a, b, store, new NoopProxyRouter())
                    .migrate(args[4], "a", "b", System.out);
            System.exit(m.state() == MigrationState.DONE ? 0 : 1);
        }
    }
}
