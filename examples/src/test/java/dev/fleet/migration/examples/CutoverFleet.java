package dev.fleet.migration.examples;

import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationListener;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.ProxyRouter;
import dev.fleet.migration.docker.DockerEndpoint;
import dev.fleet.migration.docker.DockerNodeAgent;
import dev.fleet.migration.transport.SharedDirectoryTransport;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Two real Docker engines as nodes "a" (upstream host 127.0.0.1) and "b" (127.0.0.2), an
 * in-memory store, the given router, and an orchestrator whose scheduler ticks every 100 ms,
 * wired as {@link EmbeddedMigration} wires them.
 */
public final class CutoverFleet implements AutoCloseable {
    public static final String UPSTREAM_A = "127.0.0.1";
    public static final String UPSTREAM_B = "127.0.0.2";

    private final DockerNodeAgent agentA;
    private final DockerNodeAgent agentB;
    public final Orchestrator orchestrator;

    public CutoverFleet(ProxyRouter router, MigrationListener listener) {
        this.agentA = agent("a", CutoverEnvironment.dockerA(), CutoverEnvironment.archiveA(), "b", CutoverEnvironment.archiveB());
        this.agentB = agent("b", CutoverEnvironment.dockerB(), CutoverEnvironment.archiveB(), "a", CutoverEnvironment.archiveA());
        this.orchestrator = Orchestrator.builder()
                .store(new InMemoryMigrationStore())
                .node(agentA, UPSTREAM_A)
                .node(agentB, UPSTREAM_B)
                .router(router)
                .listener(listener)
                .settings(OrchestratorSettings.DEFAULTS
                        .withSchedulerInterval(Duration.ofMillis(100))
                        .withHealthDeadline(Duration.ofSeconds(20)))
                .build()
                .start();
    }

    public static String dockerOf(String node) {
        return node.equals("a") ? CutoverEnvironment.dockerA() : CutoverEnvironment.dockerB();
    }

    public static String upstreamOf(String node) {
        return node.equals("a") ? UPSTREAM_A : UPSTREAM_B;
    }

    /** Starts a migration of {@code app} and waits (deadline) until it is DONE or FAILED. */
    public Migration migrate(String app, String from, String to, Duration deadline) {
        Migration m = orchestrator.create(app, from, to);
        long until = System.nanoTime() + deadline.toNanos();
        while (!m.isTerminal()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("migration " + m.id() + " of " + app + " did not end within " + deadline
                        + "; it is " + m.state() + " " + m.detail().orElse(""));
            }
            CutoverEnvironment.sleep(20);
            m = orchestrator.get(m.id());
        }
        return m;
    }

    private static DockerNodeAgent agent(String self, String docker, Path archive, String peer, Path peerArchive) {
        return DockerNodeAgent.builder()
                .node(NodeId.of(self))
                .docker(DockerEndpoint.unix(docker))
                .archiveDirectory(archive)
                .transport(SharedDirectoryTransport.builder().build())
                .peer(NodeId.of(peer), new DockerNodeAgent.Peer(new Endpoint("127.0.0.1", 22, "root"), peerArchive.toString()))
                .probeHostPorts(false)
                .stopTimeout(Duration.ofSeconds(5))
                .build();
    }

    @Override
    public void close() {
        orchestrator.close();
        agentA.close();
        agentB.close();
    }
}
