package dev.fleet.migration.bench;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationEvent;
import dev.fleet.migration.core.MigrationIds;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.StateMachine;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.spi.MigrationStore;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.store.jdbc.SqliteMigrationStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Issue 2's benchmark: drives migrations to DONE against zero-latency fake nodes, so what is
 * measured is the control plane's own cost, and measures beside it the floor that cost sits
 * on: the same number of store saves with no orchestration at all.
 *
 * <p>Targets: a tick ≤ 1 ms p99 and a whole migration ≤ 50 ms p99, with the in-memory store
 * and with SQLite.
 */
final class CoreBenchmark implements Benchmark {
    private final int migrations = Integer.getInteger("bench.core.migrations", 10_000);
    private final int warmup = Integer.getInteger("bench.core.warmup", 1_000);

    @Override
    public String name() {
        return "core";
    }

    @Override
    public List<Figure> run() throws Exception {
        List<Figure> figures = new ArrayList<>();
        Path dir = Files.createTempDirectory("fleet-bench-core");
        try {
            figures.addAll(measure("in-memory store", InMemoryMigrationStore::new));
            int[] n = {0};
            figures.addAll(measure("SQLite store (synchronous=NORMAL)", () -> SqliteMigrationStore
                    .builder(dir.resolve("normal-" + (n[0]++) + ".db"))
                    .synchronous(SqliteMigrationStore.Synchronous.NORMAL).open()));
            figures.addAll(measure("SQLite store (synchronous=FULL, the default)", () -> SqliteMigrationStore
                    .builder(dir.resolve("full-" + (n[0]++) + ".db")).open()));
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        return figures;
    }

    private List<Figure> measure(String storeName, Supplier<MigrationStore> stores) throws Exception {
        String bench = "core: " + storeName;
        // warm the JIT on a throwaway store, then measure on a fresh one
        drive(stores.get(), warmup, "w");
        MigrationStore store = stores.get();
        Result r = drive(store, migrations, "m");
        close(store);

        int savesPerMigration = (int) Math.round((double) r.saves / migrations);
        MigrationStore floorStore = stores.get();
        Floor floor = storeOnly(floorStore, migrations, savesPerMigration);
        close(floorStore);

        Stats ticks = new Stats(r.tickNanos, r.ticks);
        Stats whole = new Stats(r.migrationNanos, migrations);
        Stats saves = new Stats(floor.saveNanos, floor.saves);
        Stats floorWhole = new Stats(floor.migrationNanos, migrations);
        double ticksPerSecond = r.ticks / ticks.totalSeconds();
        System.out.printf("%s: %d migrations, %d ticks, %d saves (%d per migration)%n", bench, migrations, r.ticks,
                r.saves, savesPerMigration);
        double tickP99 = ticks.percentileMillis(99);
        double wholeP99 = whole.percentileMillis(99);
        return List.of(
                new Figure(bench, "ticks per second", ticksPerSecond, "ticks/s",
                        floor.saves / saves.totalSeconds(), "store saves alone per second", "—", true),
                new Figure(bench, "tick p50", ticks.percentileMillis(50), "ms", saves.percentileMillis(50),
                        "one store save, p50", "—", true),
                new Figure(bench, "tick p99", tickP99, "ms", saves.percentileMillis(99), "one store save, p99",
                        "≤ 1 ms", tickP99 <= 1.0),
                new Figure(bench, "whole migration p99", wholeP99, "ms", floorWhole.percentileMillis(99),
                        "the same " + savesPerMigration + " saves alone, p99", "≤ 50 ms", wholeP99 <= 50.0));
    }

    private record Result(long[] tickNanos, int ticks, long[] migrationNanos, long saves) {}

    private record Floor(long[] saveNanos, int saves, long[] migrationNanos) {}

    private static Result drive(MigrationStore store, int count, String prefix) {
        Clock clock = Clock.systemUTC();
        FakeFleet fleet = new FakeFleet(clock, 1);
        long[] saves = {0};
        Orchestrator.Builder b = Orchestrator.builder().store(store).clock(clock)
                .ids(MigrationIds.sequential(prefix))
                .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ZERO))
                .listener((before, after) -> saves[0]++);
        b.node(fleet.node("a"), "127.0.0.1").node(fleet.node("b"), "127.0.0.2");
        Orchestrator o = b.build();
        long[] tickNanos = new long[count * 8];
        long[] migrationNanos = new long[count];
        int ticks = 0;
        for (int i = 0; i < count; i++) {
            AppRef app = AppRef.container("app-" + prefix + i);
            fleet.deploy("a", app, 8080);
            long start = System.nanoTime();
            Migration m = o.create(app.id(), "a", "b");
            long spent = System.nanoTime() - start;
            while (!m.isTerminal()) {
                long t0 = System.nanoTime();
                m = o.advance(m.id());
                long dt = System.nanoTime() - t0;
                spent += dt;
                if (ticks == tickNanos.length) {
                    tickNanos = java.util.Arrays.copyOf(tickNanos, ticks * 2);
                }
                tickNanos[ticks++] = dt;
            }
            if (m.state() != dev.fleet.migration.core.MigrationState.DONE) {
                throw new IllegalStateException("benchmark migration ended " + m.state() + ": " + m.failure());
            }
            migrationNanos[i] = spent;
        }
        return new Result(tickNanos, ticks, migrationNanos, saves[0]);
    }

    /** The floor: insert a record and save it again and again, with no orchestration. */
    private static Floor storeOnly(MigrationStore store, int count, int savesPerMigration) {
        Clock clock = Clock.systemUTC();
        long[] saveNanos = new long[count * savesPerMigration];
        long[] migrationNanos = new long[count];
        int saves = 0;
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            Migration m = Migration.create(dev.fleet.migration.core.MigrationId.of("m-f-" + i),
                    AppRef.container("floor-" + i), NodeId.of("a"), NodeId.of("b"), 1, clock.instant());
            long t0 = System.nanoTime();
            store.insert(m);
            saveNanos[saves++] = System.nanoTime() - t0;
            for (int s = 1; s < savesPerMigration; s++) {
                m = StateMachine.apply(m, new MigrationEvent.Waiting("floor " + s), clock).get();
                t0 = System.nanoTime();
                store.update(m);
                saveNanos[saves++] = System.nanoTime() - t0;
            }
            m = StateMachine.apply(m, new MigrationEvent.Failed("floor done",
                    dev.fleet.migration.core.Compensation.NOT_NEEDED), clock).get();
            store.update(m);
            migrationNanos[i] = System.nanoTime() - start;
        }
        return new Floor(saveNanos, saves, migrationNanos);
    }

    private static void close(MigrationStore store) throws Exception {
        if (store instanceof AutoCloseable c) {
            c.close();
        }
    }
}
