package dev.fleet.migration.bench;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.MigrationIds;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.store.jdbc.SqliteMigrationStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * A SQLite file holding many migrations, written directly through the store: real records
 * (made by driving three migrations through an orchestrator over fake nodes: one DONE, one
 * FAILED in TRANSFERRING, one active in TRANSFERRING with progress), copied under new ids, apps
 * and creation times. Migration {@code i} is active when {@code i % 11 == 0} (until there are
 * {@code active} of them); of the others every fifth failed and the rest are done.
 */
final class SeededStore {
    private SeededStore() {}

    record Seeded(Path file, int total, int active) {}

    static Seeded seed(Path file, int total, int active) {
        Templates t = templates();
        Instant start = Instant.parse("2026-01-01T00:00:00Z");
        int actives = 0;
        long t0 = System.nanoTime();
        try (SqliteMigrationStore store = SqliteMigrationStore.builder(file)
                .synchronous(SqliteMigrationStore.Synchronous.NORMAL).open()) {
            for (int i = 0; i < total; i++) {
                Migration template;
                if (i % 11 == 0 && actives < active) {
                    template = t.active;
                    actives++;
                } else {
                    template = i % 5 == 0 ? t.failed : t.done;
                }
                store.insert(copy(template, String.format("m-seed-%06d", i), String.format("app-%06d", i),
                        start.plusSeconds(i)));
            }
        }
        System.out.printf("seeded %s: %d migrations (%d active) in %.1f s%n", file, total, actives,
                (System.nanoTime() - t0) / 1e9);
        return new Seeded(file, total, actives);
    }

    private record Templates(Migration done, Migration failed, Migration active) {}

    private static Templates templates() {
        Clock clock = Clock.systemUTC();
        FakeFleet fleet = new FakeFleet(clock, 1);
        Orchestrator o = Orchestrator.builder().store(new InMemoryMigrationStore()).clock(clock)
                .ids(MigrationIds.sequential("tpl"))
                .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ZERO))
                .node(fleet.node("a"), "127.0.0.1").node(fleet.node("b"), "127.0.0.2").build();
        for (String app : new String[] {"done", "failed", "active"}) {
            fleet.deploy("a", AppRef.container(app), 8080);
        }
        Migration done = o.create("done", "a", "b");
        while (!done.isTerminal()) {
            done = o.advance(done.id());
        }
        Migration failed = untilState(o, o.create("failed", "a", "b"), MigrationState.TRANSFERRING);
        failed = o.fail(failed.id(), "maintenance window closed");
        Migration active = untilState(o, o.create("active", "a", "b"), MigrationState.TRANSFERRING);
        o.close();
        if (done.state() != MigrationState.DONE || failed.state() != MigrationState.FAILED || !active.state().isActive()) {
            throw new IllegalStateException("templates ended " + done.state() + ", " + failed.state() + ", "
                    + active.state());
        }
        return new Templates(done, failed, active);
    }

    private static Migration untilState(Orchestrator o, Migration m, MigrationState state) {
        for (int i = 0; i < 50 && m.state() != state; i++) {
            m = o.advance(m.id());
        }
        return m;
    }

    /** The record under another id, app and creation time, as version 1 (an insert). */
    private static Migration copy(Migration m, String id, String app, Instant createdAt) {
        return new Migration(MigrationId.of(id), AppRef.container(app), m.source(), m.target(), m.state(), 1,
                m.epoch(), createdAt, createdAt.plus(Duration.between(m.createdAt(), m.updatedAt())), m.steps(),
                m.operations(), m.progress(), m.archive(), m.facts(), m.failing(), m.failure(), m.downtime(),
                m.detail());
    }
}
