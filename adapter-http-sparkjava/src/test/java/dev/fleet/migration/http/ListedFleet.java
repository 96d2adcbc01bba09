package dev.fleet.migration.http;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.Compensation;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationEvent;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.StateMachine;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.core.testing.MutableClock;
import dev.fleet.migration.store.jdbc.SqliteMigrationStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * A control plane (scheduler off) over a SQLite store seeded directly with {@code n} migrations
 * m-0000 .. of apps app-0000 .., created a millisecond apart: every fifth one (i % 5 == 0) is
 * active, in snapshotting; the others failed. For listing tests.
 */
public final class ListedFleet implements AutoCloseable {
    public final ControlPlane cp;
    private final SqliteMigrationStore store;

    public ListedFleet(Path dir, int n) {
        store = SqliteMigrationStore.builder(dir.resolve("listed.db"))
                .synchronous(SqliteMigrationStore.Synchronous.NORMAL).open();
        MutableClock clock = MutableClock.at("2026-01-01T00:00:00Z");
        for (int i = 0; i < n; i++) {
            clock.advance(Duration.ofMillis(1));
            Migration m = Migration.create(MigrationId.of(String.format("m-%04d", i)),
                    AppRef.container(String.format("app-%04d", i)), NodeId.of("a"), NodeId.of("b"), 1, clock.instant());
            store.insert(m);
            MigrationEvent e = i % 5 == 0 ? new MigrationEvent.Advanced(Map.of())
                    : new MigrationEvent.Failed("seeded " + i, Compensation.NOT_NEEDED);
            store.update(StateMachine.apply(m, e, clock).get());
        }
        FakeFleet fleet = new FakeFleet(Clock.systemUTC(), 3);
        cp = ControlPlane.builder().listen("127.0.0.1", 0).operatorToken(TestFleets.OPERATOR)
                .agentToken(TestFleets.AGENT).store(store)
                .node(fleet.node("a"), "127.0.0.1").node(fleet.node("b"), "127.0.0.1")
                .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ZERO))
                .start();
    }

    @Override
    public void close() {
        cp.close();
        store.close();
    }
}
