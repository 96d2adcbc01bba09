package dev.fleet.migration.examples;

import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.spi.MigrationStore;
import dev.fleet.migration.core.spi.NoopProxyRouter;
import dev.fleet.migration.docker.DockerNodeAgent;
import dev.fleet.migration.store.jdbc.SqliteMigrationStore;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Replaying a migration from a kept archive. The first migration is aborted as soon as its
 * snapshot is taken (say the target's maintenance window closed); the source keeps running and
 * keeps the archive. Later the operator replays it: the new migration adopts the kept archive
 * instead of reading the volumes again, and its final delta at cutover carries every write made
 * since that first snapshot, so nothing is lost.
 *
 * <pre>
 * java dev.fleet.migration.examples.ReplayFromKeptArchive \
 *     unix:///run/a/docker.sock /var/lib/fleet/a unix:///run/b/docker.sock /var/lib/fleet/b web
 * </pre>
 */
public final class ReplayFromKeptArchive {
    private final EmbeddedMigration.Node a;
    private final EmbeddedMigration.Node b;
    private final MigrationStore store;

    public ReplayFromKeptArchive(EmbeddedMigration.Node a, EmbeddedMigration.Node b, MigrationStore store) {
        this.a = a;
        this.b = b;
        this.store = store;
    }

    /**
     * Starts moving {@code app} from a to b, aborts once the snapshot is taken, runs
     * {@code meanwhile} (the app keeps serving and writing on a), then replays the kept archive
     * to b. Returns the replay, ended.
     */
    public Migration run(String app, Runnable meanwhile, PrintStream out) throws InterruptedException {
        try (DockerNodeAgent agentA = EmbeddedMigration.agent(a, b);
             DockerNodeAgent agentB = EmbeddedMigration.agent(b, a);
             Orchestrator orchestrator = Orchestrator.builder()
                     .store(store)
                     .node(agentA, a.upstreamHost())
                     .node(agentB, b.upstreamHost())
                     .router(new NoopProxyRouter())
                     .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ofMillis(200)))
                     .build()
                     .start()) {
            Migration first = orchestrator.create(app, a.id(), b.id());
            out.printf("migration %s: %s from %s to %s%n", first.id(), first.app(), a.id(), b.id());
            while (!first.isTerminal() && first.archive().isEmpty()) {
                Thread.sleep(100);
                first = orchestrator.get(first.id());
            }
            if (first.isTerminal()) {
                out.printf("ended in %s before its snapshot was taken: nothing to replay%n", first.state().wireName());
                return first;
            }
            first = orchestrator.fail(first.id(), "the target's maintenance window closed");
            out.printf("aborted in %s; %s keeps running on %s, and its archive %s (%s) is kept%n",
                    first.failure().get().failedIn().wireName(), app, a.id(), first.archive().get().fileName(),
                    EmbeddedMigration.bytes(first.archive().get().size()));

            meanwhile.run();

            Migration replay = orchestrator.replay(first.id().value(), a.id(), b.id());
            out.printf("replay %s of %s: %s from %s to %s, without a new snapshot%n", replay.id(), first.id(),
                    replay.app(), a.id(), b.id());
            String last = "";
            while (!replay.isTerminal()) {
                Thread.sleep(200);
                replay = orchestrator.get(replay.id());
                String line = EmbeddedMigration.describe(replay);
                if (!line.equals(last)) {
                    out.println(line);
                    last = line;
                }
            }
            if (replay.state() == MigrationState.DONE) {
                out.printf("done: %s now runs on %s, with every write made since the first snapshot%n", app, b.id());
            } else {
                out.printf("replay failed in %s: %s%n", replay.failure().get().failedIn(),
                        replay.failure().get().reason());
            }
            return replay;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: ReplayFromKeptArchive DOCKER_A ARCHIVE_A DOCKER_B ARCHIVE_B APP");
            System.exit(2);
        }
        EmbeddedMigration.Node a = new EmbeddedMigration.Node("a", args[0], Path.of(args[1]), "127.0.0.1");
        EmbeddedMigration.Node b = new EmbeddedMigration.Node("b", args[2], Path.of(args[3]), "127.0.0.2");
        try (SqliteMigrationStore store = SqliteMigrationStore.open(Path.of("fleet-replay-example.db"))) {
            Migration m = new ReplayFromKeptArchive(a, b, store).run(args[4], () -> { }, System.out);
            System.exit(m.state() == MigrationState.DONE ? 0 : 1);
        }
    }
}
