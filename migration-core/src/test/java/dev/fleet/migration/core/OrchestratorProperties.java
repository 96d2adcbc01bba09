package dev.fleet.migration.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.spi.NoopProxyRouter;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.core.testing.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Random interleavings of everything that can happen to migrations (ticks, duplicate and
 * concurrent ticks, aborts, node failures, unreachable nodes, control-plane crashes, retries),
 * across many migrations of several apps on three fake nodes. After every step:
 * only table edges were taken, DONE and FAILED absorb, versions rise by one, no operation's
 * work started twice, an app never runs on two nodes, and an aborted or failed migration left
 * both nodes as they were before it.
 */
class OrchestratorProperties {
    private static final List<AppRef> APPS = List.of(AppRef.container("web"), AppRef.container("db"),
            AppRef.compose("shop"));
    private static final List<String> NODES = List.of("a", "b", "c");
    private static final ExecutorService POOL = Executors.newFixedThreadPool(2);

    @AfterContainer
    static void stopPool() {
        POOL.shutdownNow();
    }

    /** One thing that happens. Indices pick among the apps, nodes and migrations made so far. */
    sealed interface Action {}

    record Create(int app, int target) implements Action {}

    record Tick(int migration) implements Action {}

    record DuplicateTick(int migration) implements Action {}

    record ReplicaTick(int migration) implements Action {}

    record Abort(int migration) implements Action {}

    record ClockMoves(int seconds) implements Action {}

    record Crash() implements Action {}

    record NodesFail(boolean on) implements Action {}

    record NodesFlaky(boolean on) implements Action {}

    @Provide
    Arbitrary<List<Action>> scripts() {
        Arbitrary<Integer> idx = Arbitraries.integers().between(0, 7);
        Arbitrary<Action> action = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.integers().between(0, APPS.size() - 1)
                        .flatMap(a -> Arbitraries.integers().between(0, NODES.size() - 1).map(t -> new Create(a, t)))),
                net.jqwik.api.Tuple.of(10, idx.map(Tick::new)),
                net.jqwik.api.Tuple.of(2, idx.map(DuplicateTick::new)),
                net.jqwik.api.Tuple.of(3, idx.map(ReplicaTick::new)),
                net.jqwik.api.Tuple.of(2, idx.map(Abort::new)),
                net.jqwik.api.Tuple.of(6, Arbitraries.integers().between(1, 8).map(ClockMoves::new)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(new Crash())),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(true, false).map(NodesFail::new)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(true, false).map(NodesFlaky::new)));
        return action.list().ofMinSize(1).ofMaxSize(60);
    }

    /** The world one try runs in. */
    private static final class World {
        final MutableClock clock = MutableClock.at("2026-05-01T00:00:00Z");
        final FakeFleet fleet;
        final InMemoryMigrationStore store = new InMemoryMigrationStore();
        final dev.fleet.migration.core.spi.ProxyRouter router;
        final AtomicInteger ids = new AtomicInteger();
        final List<MigrationId> migrations = new ArrayList<>();
        /** Per migration, both nodes' view of its app just before it started. */
        final Map<MigrationId, String> before = new HashMap<>();
        /** Failed migrations whose nodes were compared already (a later migration may move the app on). */
        final java.util.Set<MigrationId> failureChecked = new java.util.HashSet<>();
        Orchestrator primary;
        Orchestrator replica;

        World(long seed, Duration maxDuration, boolean routeFirst) {
            NoopProxyRouter noop = new NoopProxyRouter();
            router = !routeFirst ? noop : new dev.fleet.migration.core.spi.ProxyRouter() {
                @Override
                public java.util.Optional<dev.fleet.migration.core.spi.Upstream> current(AppRef app) {
                    return noop.current(app);
                }

                @Override
                public void switchTo(AppRef app, java.util.Optional<dev.fleet.migration.core.spi.Upstream> expected,
                                     dev.fleet.migration.core.spi.Upstream next) {
                    noop.switchTo(app, expected, next);
                }

                @Override
                public void remove(AppRef app) {
                    noop.remove(app);
                }

                @Override
                public boolean holdsRequestsUntilUpstreamAnswers() {
                    return true;
                }
            };
            fleet = new FakeFleet(clock, seed).durations(maxDuration);
            for (String n : NODES) {
                fleet.node(n);
            }
            for (int i = 0; i < APPS.size(); i++) {
                fleet.deploy(NODES.get(i % NODES.size()), APPS.get(i), 8000 + i);
            }
            primary = orchestrator();
        }

        Orchestrator orchestrator() {
            Orchestrator.Builder b = Orchestrator.builder().store(store).router(router).clock(clock)
                    .sleeper(clock::advance)
                    .ids(() -> MigrationId.of("m-p-" + ids.incrementAndGet()))
                    .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ZERO)
                            .withMaxActivePerNode(2).withStepTimeout(Duration.ofMinutes(2)));
            for (String n : NODES) {
                b.node(fleet.node(n));
            }
            return b.build();
        }

        Orchestrator replica() {
            if (replica == null) {
                replica = orchestrator();
            }
            return replica;
        }

        MigrationId pick(int i) {
            return migrations.isEmpty() ? null : migrations.get(i % migrations.size());
        }

        String appView(AppRef app, MigrationId m) {
            StringBuilder sb = new StringBuilder();
            for (String n : NODES) {
                sb.append(n).append('=').append(fleet.snapshotOf(n, app, m)).append('\n');
            }
            return sb.toString();
        }

        void create(Create c) {
            AppRef app = APPS.get(c.app());
            List<String> where = fleet.runningOn(app);
            if (where.size() != 1) {
                return; // mid-migration (stopped) or nowhere: nothing to move
            }
            String source = where.get(0);
            String target = NODES.get(c.target());
            if (target.equals(source)) {
                target = NODES.get((c.target() + 1) % NODES.size());
            }
            int next = ids.get() + 1;
            String view = appView(app, MigrationId.of("m-p-" + next));
            try {
                Migration m = primary.create(app.id(), source, target);
                migrations.add(m.id());
                before.put(m.id(), view);
            } catch (ActiveMigrationExistsException expected) {
                // the app is already moving
            }
        }

        void run(Action a) {
            if (a instanceof Create c) {
                create(c);
            } else if (a instanceof Tick t) {
                tick(primary, pick(t.migration()));
            } else if (a instanceof DuplicateTick t) {
                tick(primary, pick(t.migration()));
                tick(primary, pick(t.migration()));
            } else if (a instanceof ReplicaTick t) {
                tick(replica(), pick(t.migration()));
            } else if (a instanceof Abort ab) {
                abort(pick(ab.migration()));
            } else if (a instanceof ClockMoves c) {
                clock.advance(Duration.ofSeconds(c.seconds()));
            } else if (a instanceof Crash) {
                primary = orchestrator(); // the old instance is dropped with whatever it held in memory
            } else if (a instanceof NodesFail f) {
                fleet.failureRate(f.on() ? 0.3 : 0);
            } else if (a instanceof NodesFlaky f) {
                fleet.unavailableRate(f.on() ? 0.3 : 0);
            }
        }

        void tick(Orchestrator o, MigrationId id) {
            if (id == null) {
                return;
            }
            try {
                o.advance(id);
            } catch (TerminalMigrationException expected) {
                // ended earlier
            }
        }

        void abort(MigrationId id) {
            if (id == null) {
                return;
            }
            try {
                primary.fail(id, "property test abort");
            } catch (TerminalMigrationException expected) {
                // ended earlier
            }
        }

        /** Lets everything finish: no more faults, time moves, every active migration ticks. */
        void drain() {
            fleet.failureRate(0);
            fleet.unavailableRate(0);
            for (int i = 0; i < 10_000 && !store.active().isEmpty(); i++) {
                clock.advance(Duration.ofSeconds(1));
                primary.tickAll();
            }
            assertThat(store.active()).as("every migration ends").isEmpty();
        }

        void checkInvariants() {
            assertThat(fleet.violations()).as("the fake saw no broken rule").isEmpty();
            assertThat(fleet.workStarts().values()).as("no operation's work started twice").allMatch(n -> n == 1);
            for (AppRef app : APPS) {
                assertThat(fleet.runningOn(app)).as("%s never runs on two nodes", app).hasSizeLessThanOrEqualTo(1);
            }
            for (MigrationId id : migrations) {
                List<Migration> h = store.history(id);
                for (int i = 1; i < h.size(); i++) {
                    Migration prev = h.get(i - 1);
                    Migration next = h.get(i);
                    assertThat(next.version()).as("versions rise by one").isEqualTo(prev.version() + 1);
                    assertThat(prev.isTerminal()).as("%s absorbs (%s)", prev.state(), id).isFalse();
                    if (prev.state() != next.state()) {
                        assertThat(Transitions.isLegal(prev.state(), next.state()))
                                .as("%s → %s is a table edge", prev.state(), next.state()).isTrue();
                    }
                    assertThat(next.epoch()).as("epochs never fall").isGreaterThanOrEqualTo(prev.epoch());
                }
                Migration last = h.get(h.size() - 1);
                if (last.state() == MigrationState.FAILED && failureChecked.add(id)) {
                    assertThat(last.failure().get().compensation().outcome())
                            .isNotEqualTo(Compensation.Outcome.INCOMPLETE);
                    assertThat(appView(last.app(), id)).as("after %s failed (%s), both nodes are as before", id,
                            last.failure().get().reason()).isEqualTo(before.get(id));
                }
            }
        }
    }

    @Property(tries = 1000)
    void randomInterleavingsKeepEveryInvariant(@ForAll("scripts") List<Action> script, @ForAll long seed,
                                               @ForAll boolean routeFirst) {
        World w = new World(seed, Duration.ofSeconds(5), routeFirst);
        for (Action a : script) {
            w.run(a);
            w.checkInvariants();
        }
        w.drain();
        w.checkInvariants();
        // at the end every app runs on exactly one node: the target of its last DONE migration, or where it was
        for (AppRef app : APPS) {
            assertThat(w.fleet.runningOn(app)).as("%s runs somewhere once everything ended", app).hasSize(1);
        }
        for (MigrationId id : w.migrations) {
            Migration m = w.store.find(id).orElseThrow();
            if (m.state() == MigrationState.DONE) {
                assertThat(m.archive()).isPresent();
                assertThat(m.downtime()).isPresent();
            }
        }
    }

    @Property(tries = 1000)
    void concurrentTicksFromTwoControlPlanesKeepEveryInvariant(@ForAll long seed, @ForAll boolean routeFirst)
            throws Exception {
        World w = new World(seed, Duration.ZERO, routeFirst);
        for (int i = 0; i < APPS.size(); i++) {
            w.create(new Create(i, (i + 1) % NODES.size()));
        }
        Random random = new Random(seed);
        boolean abortOne = random.nextBoolean();
        List<Orchestrator> planes = List.of(w.primary, w.replica());
        List<Future<?>> workers = new ArrayList<>();
        for (Orchestrator plane : planes) {
            long workerSeed = random.nextLong();
            workers.add(POOL.submit(() -> {
                Random r = new Random(workerSeed);
                for (int i = 0; i < 200 && !w.store.active().isEmpty(); i++) {
                    MigrationId id = w.migrations.get(r.nextInt(w.migrations.size()));
                    try {
                        if (abortOne && r.nextInt(40) == 0) {
                            plane.fail(id, "concurrent abort");
                        } else {
                            plane.advance(id);
                        }
                    } catch (TerminalMigrationException | StaleVersionException expected) {
                        // ended, or the other control plane saved first
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : workers) {
            f.get(60, TimeUnit.SECONDS);
        }
        w.checkInvariants();
        w.drain();
        w.checkInvariants();
        // no fault was injected, so the only way to fail is an abort: a node error here would mean
        // one control plane's compensation undid work the other went on with
        for (MigrationId id : w.migrations) {
            Migration m = w.store.find(id).orElseThrow();
            if (m.state() == MigrationState.FAILED) {
                assertThat(m.failure().get().reason()).startsWith("aborted: concurrent abort");
            } else {
                assertThat(m.state()).isEqualTo(MigrationState.DONE);
            }
        }
    }
}
