package dev.fleet.migration.core;

import static dev.fleet.migration.core.MigrationState.CUTOVER;
import static dev.fleet.migration.core.MigrationState.DONE;
import static dev.fleet.migration.core.MigrationState.FAILED;
import static dev.fleet.migration.core.MigrationState.PENDING;
import static dev.fleet.migration.core.MigrationState.RESTORING;
import static dev.fleet.migration.core.MigrationState.SNAPSHOTTING;
import static dev.fleet.migration.core.MigrationState.TRANSFERRING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.spi.NoopProxyRouter;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.Upstream;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.core.testing.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

@DisplayName("The orchestrator, as the seed documents it")
class OrchestratorTest {
    private final MutableClock clock = MutableClock.at("2026-03-01T10:00:00Z");
    private final FakeFleet fleet = new FakeFleet(clock, 7);
    private final InMemoryMigrationStore store = new InMemoryMigrationStore();
    private final NoopProxyRouter router = new NoopProxyRouter();
    private final List<String> saved = new ArrayList<>();
    private Orchestrator orchestrator = newOrchestrator(OrchestratorSettings.DEFAULTS);

    private Orchestrator newOrchestrator(OrchestratorSettings settings) {
        return newOrchestrator(settings, router);
    }

    /** The test's orchestrator over the fake nodes a, b and c, the scheduler off, with this router. */
    private Orchestrator newOrchestrator(OrchestratorSettings settings, dev.fleet.migration.core.spi.ProxyRouter router) {
        return Orchestrator.builder()
                .store(store)
                .node(fleet.node("a"), "127.0.0.1")
                .node(fleet.node("b"), "127.0.0.2")
                .node(fleet.node("c"), "127.0.0.3")
                .router(router)
                .clock(clock)
                .sleeper(clock::advance)
                .ids(MigrationIds.sequential("t"))
                .settings(settings.withSchedulerInterval(Duration.ZERO))
                .listener((before, after) -> saved.add(after.state() + "@" + after.version()))
                .build();
    }

    private Migration webFromAToB() {
        fleet.deploy("a", AppRef.container("web"), 8080);
        router.switchTo(AppRef.container("web"), Optional.empty(), new Upstream("127.0.0.1", 8080));
        return orchestrator.create("web", "a", "b");
    }

    /** Ticks, moving the clock a second before each, until terminal or n ticks. */
    private Migration tick(Migration m, int n) {
        for (int i = 0; i < n && !m.isTerminal(); i++) {
            clock.advance(Duration.ofSeconds(1));
            m = orchestrator.advance(m.id());
        }
        return m;
    }

    private Migration runToEnd(Migration m) {
        return tick(m, 100_000);
    }

    private List<MigrationState> statesOf(Migration m) {
        List<MigrationState> states = new ArrayList<>();
        for (Migration v : store.history(m.id())) {
            if (states.isEmpty() || states.get(states.size() - 1) != v.state()) {
                states.add(v.state());
            }
        }
        return states;
    }

    @Nested
    @DisplayName("starting a migration")
    class Starting {
        @Test
        @DisplayName("records it in pending with version 1 and epoch 1; nothing happens on disk")
        void createsPending() {
            Migration m = webFromAToB();
            assertThat(m.state()).isEqualTo(PENDING);
            assertThat(m.version()).isEqualTo(1);
            assertThat(m.epoch()).isEqualTo(1);
            assertThat(m.app()).isEqualTo(AppRef.container("web"));
            assertThat(fleet.workStarts()).isEmpty();
            assertThat(orchestrator.get(m.id())).isEqualTo(m);
            assertThat(orchestrator.list()).containsExactly(m);
        }

        @Test
        @DisplayName("accepts a compose stack root as the app id")
        void acceptsComposeStack() {
            fleet.deploy("a", AppRef.compose("shop"), 8080);
            Migration m = runToEnd(orchestrator.create("compose:shop", "a", "b"));
            assertThat(m.state()).isEqualTo(DONE);
            assertThat(fleet.runningOn(AppRef.compose("shop"))).containsExactly("b");
        }

        @ParameterizedTest(name = "app id {0}")
        @ValueSource(strings = {"", "../x", "-rm", "a b", "web;rm -rf /", "$(id)", "web\n", "w\u0000eb",
                "w\u0435b", "compose:Shop", "compose:", ".hidden"})
        @DisplayName("refuses a malformed app id with the rule it broke, and stores nothing")
        void refusesBadAppId(String appId) {
            assertThatThrownBy(() -> orchestrator.create(appId, "a", "b"))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessageStartingWith("appId ");
            assertThat(store.list()).isEmpty();
        }

        @Test
        @DisplayName("refuses an app id longer than 255 characters")
        void refusesLongAppId() {
            assertThatThrownBy(() -> orchestrator.create("w".repeat(256), "a", "b"))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessageContaining("at most 255 characters long (was 256)");
        }

        @Test
        @DisplayName("refuses an unknown node, listing the configured ones")
        void refusesUnknownNode() {
            assertThatThrownBy(() -> orchestrator.create("web", "a", "z"))
                    .isInstanceOf(UnknownNodeException.class)
                    .hasMessage("target names unknown node 'z'; configured nodes: a, b, c");
            assertThat(store.list()).isEmpty();
        }

        @Test
        @DisplayName("refuses the same node as source and target")
        void refusesSameNode() {
            assertThatThrownBy(() -> orchestrator.create("web", "a", "a"))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage("target must differ from source 'a', but was 'a'");
            assertThat(store.list()).isEmpty();
        }

        @Test
        @DisplayName("refuses a second active migration of one app, naming the first")
        void refusesSecondActive() {
            Migration first = webFromAToB();
            assertThatThrownBy(() -> orchestrator.create("web", "a", "c"))
                    .isInstanceOf(ActiveMigrationExistsException.class)
                    .hasMessageContaining(first.id().value());
            assertThat(store.list()).containsExactly(first);
        }
    }

    @Nested
    @DisplayName("the tick")
    class Ticking {
        @Test
        @DisplayName("walks pending → snapshotting → transferring → restoring → cutover → done, one state per tick")
        void walksEveryState() {
            Migration m = webFromAToB();
            List<MigrationState> seen = new ArrayList<>();
            seen.add(m.state());
            while (!m.isTerminal()) {
                m = orchestrator.advance(m.id());
                seen.add(m.state());
            }
            assertThat(seen).containsExactly(PENDING, SNAPSHOTTING, TRANSFERRING, RESTORING, CUTOVER, DONE);
        }

        @Test
        @DisplayName("moves the app: it runs on the target only, the route points there, the downtime is recorded")
        void movesTheApp() {
            Migration m = runToEnd(webFromAToB());
            assertThat(m.state()).isEqualTo(DONE);
            assertThat(fleet.runningOn(AppRef.container("web"))).containsExactly("b");
            assertThat(router.current(AppRef.container("web"))).contains(new Upstream("127.0.0.2", 8080));
            assertThat(m.downtime()).isPresent();
            assertThat(m.facts()).containsEntry(Orchestrator.FACT_ROUTE, "127.0.0.2:8080");
            assertThat(m.archive()).isPresent();
            assertThat(fleet.hasArchive("a", m.id())).as("the source's archive is kept after done").isTrue();
            assertThat(fleet.violations()).isEmpty();
        }

        @Test
        @DisplayName("polls running work and reports its progress without starting it again")
        void pollsRunningWork() {
            fleet.durations(Duration.ofSeconds(30));
            Migration m = webFromAToB();
            for (int i = 0; i < 20; i++) {
                m = orchestrator.advance(m.id());
                m = orchestrator.advance(m.id()); // a duplicate tick changes nothing that matters
            }
            m = runToEnd(m);
            assertThat(m.state()).isEqualTo(DONE);
            assertThat(fleet.workStarts().values()).containsOnly(1);
            assertThat(fleet.workStarts()).hasSize(6);
        }

        @Test
        @DisplayName("a migration whose preflight finds a foreign container fails in pending, with nothing to undo")
        void preflightFailure() {
            fleet.deployForeign("b", "web");
            Migration m = tick(webFromAToB(), 1);
            assertThat(m.state()).isEqualTo(FAILED);
            assertThat(m.failure().get().reason()).isEqualTo("preflight on target b: container 'web' already"
                    + " exists on node b and was not created by this migration");
            assertThat(m.failure().get().failedIn()).isEqualTo(PENDING);
            assertThat(m.failure().get().compensation()).isEqualTo(Compensation.NOT_NEEDED);
            assertThat(fleet.workStarts()).isEmpty();
        }

        @Test
        @DisplayName("a node's failure ends FAILED with the node's reason, and compensation puts both nodes back")
        void nodeFailure() {
            Migration m = webFromAToB();
            String beforeA = fleet.snapshotOf("a");
            String beforeB = fleet.snapshotOf("b");
            m = tick(m, 2); // snapshotting done, transferring started
            fleet.failureRate(1.0);
            m = runToEnd(m);
            assertThat(m.state()).isEqualTo(FAILED);
            assertThat(m.failure().get().reason()).isEqualTo("restore on node b failed: injected failure of restore");
            assertThat(m.failure().get().compensation().outcome()).isEqualTo(Compensation.Outcome.COMPLETE);
            assertThat(fleet.snapshotOf("a")).isEqualTo(beforeA);
            assertThat(fleet.snapshotOf("b")).isEqualTo(beforeB);
        }

        @Test
        @DisplayName("an unreachable node makes the tick wait and retry, saying why, then go on")
        void retriesUnavailableNode() {
            Migration m = webFromAToB();
            fleet.unavailableRate(1.0);
            m = tick(m, 3);
            assertThat(m.state()).isEqualTo(PENDING);
            assertThat(m.detail()).hasValueSatisfying(d -> assertThat(d)
                    .startsWith("retrying: node a is unavailable: injected fault during preflight"));
            fleet.unavailableRate(0);
            assertThat(runToEnd(m).state()).isEqualTo(DONE);
        }

        @Test
        @DisplayName("a step that outlives its timeout fails, and compensation runs")
        void stepTimeout() {
            orchestrator = newOrchestrator(OrchestratorSettings.DEFAULTS.withStepTimeout(Duration.ofMinutes(5)));
            fleet.durations(Duration.ofHours(1));
            Migration m = tick(webFromAToB(), 1);
            clock.advance(Duration.ofMinutes(10));
            m = orchestrator.advance(m.id());
            assertThat(m.state()).isEqualTo(FAILED);
            assertThat(m.failure().get().reason()).isEqualTo("SNAPSHOTTING took longer than the step timeout of PT5M");
            assertThat(m.failure().get().compensation().actions()).contains("source a: cancelled snapshot");
        }

        @Test
        @DisplayName("no more than the per-node limit run at once; the rest wait in pending, saying why")
        void perNodeLimit() {
            // operations of up to ten minutes: the cutover timeout must cover them
            orchestrator = newOrchestrator(OrchestratorSettings.DEFAULTS.withMaxActivePerNode(2)
                    .withCutoverTimeout(Duration.ofHours(1)));
            fleet.durations(Duration.ofMinutes(10));
            List<Migration> ms = new ArrayList<>();
            for (String app : List.of("one", "two", "three")) {
                fleet.deploy("a", AppRef.container(app), 8080);
                ms.add(orchestrator.create(app, "a", "b"));
            }
            ms.replaceAll(m -> orchestrator.advance(m.id()));
            assertThat(ms).extracting(Migration::state).containsExactly(SNAPSHOTTING, SNAPSHOTTING, PENDING);
            assertThat(ms.get(2).detail()).contains("waiting: node a already runs 2 migrations (limit 2)");
            ms.replaceAll(OrchestratorTest.this::runToEnd);
            assertThat(ms).extracting(Migration::state).containsOnly(DONE);
        }

        @Test
        @DisplayName("advance on a finished migration is refused and changes nothing")
        void refusesAdvanceOnTerminal() {
            Migration m = runToEnd(webFromAToB());
            long version = m.version();
            assertThatThrownBy(() -> orchestrator.advance(m.id()))
                    .isInstanceOf(TerminalMigrationException.class)
                    .hasMessageStartingWith("migration m-t-1 is DONE and cannot advance");
            assertThat(orchestrator.get(m.id()).version()).isEqualTo(version);
        }

        @Test
        @DisplayName("an unknown id is not found")
        void unknownId() {
            assertThatThrownBy(() -> orchestrator.advance(MigrationId.of("m-nope")))
                    .isInstanceOf(MigrationNotFoundException.class)
                    .hasMessage("no migration with id m-nope");
        }
    }

    @Nested
    @DisplayName("cutover")
    class Cutover {
        /** A router whose admin endpoint can be taken down. */
        final class FlakyRouter implements dev.fleet.migration.core.spi.ProxyRouter {
            volatile boolean down;
            volatile boolean holds;

            @Override
            public boolean holdsRequestsUntilUpstreamAnswers() {
                return holds;
            }

            @Override
            public Optional<Upstream> current(AppRef app) {
                check();
                return router.current(app);
            }

            @Override
            public void switchTo(AppRef app, Optional<Upstream> expected, Upstream next) {
                check();
                router.switchTo(app, expected, next);
            }

            @Override
            public void remove(AppRef app) {
                check();
                router.remove(app);
            }

            private void check() {
                if (down) {
                    throw new UnavailableException("proxy admin 127.0.0.1:2019 refused the connection");
                }
            }
        }

        @Test
        @DisplayName("with the proxy's admin down, rolls back after the cutover timeout: source serving, route unchanged")
        void proxyDownRollsBack() {
            FlakyRouter flaky = new FlakyRouter();
            orchestrator = newOrchestrator(OrchestratorSettings.DEFAULTS.withCutoverTimeout(Duration.ofMinutes(2)),
                    flaky);
            Migration m = webFromAToB();
            String beforeA = fleet.snapshotOf("a");
            String beforeB = fleet.snapshotOf("b");
            while (m.state() != RESTORING) {
                m = tick(m, 1);
            }
            flaky.down = true; // down before cutover begins: the switch, last here, cannot be made
            m = tick(m, 3);
            assertThat(m.state()).isEqualTo(CUTOVER);
            assertThat(m.detail()).hasValueSatisfying(d -> assertThat(d).contains("proxy admin 127.0.0.1:2019"));
            clock.advance(Duration.ofMinutes(3));
            m = orchestrator.advance(m.id());
            assertThat(m.failing()).hasValueSatisfying(r -> assertThat(r)
                    .startsWith("cutover did not bring the target up behind the route within the cutover timeout of PT2M"));
            assertThat(fleet.runningOn(m.app())).as("the source serves again at once").containsExactly("a");
            assertThat(m.state()).as("still pointing the route back").isEqualTo(CUTOVER);
            m = tick(m, 2); // the proxy is still down: compensation is retried, the nodes' part is done
            assertThat(m.state()).isEqualTo(CUTOVER);
            flaky.down = false;
            m = tick(m, 1);
            assertThat(m.state()).isEqualTo(FAILED);
            assertThat(m.failure().get().compensation().outcome()).isEqualTo(Compensation.Outcome.COMPLETE);
            assertThat(m.failure().get().compensation().actions())
                    .as("every attempt's actions are kept, not only the last one's")
                    .anySatisfy(a -> assertThat(a).startsWith("target b: removed container web"))
                    .anySatisfy(a -> assertThat(a).startsWith("source a: restored web"))
                    .anySatisfy(a -> assertThat(a).startsWith("route: could not point back"))
                    .last().isEqualTo("route: points at 127.0.0.1:8080");
            assertThat(router.current(m.app())).contains(new Upstream("127.0.0.1", 8080));
            assertThat(fleet.snapshotOf("a")).isEqualTo(beforeA);
            assertThat(fleet.snapshotOf("b")).isEqualTo(beforeB);
        }

        @Test
        @DisplayName("behind a proxy that holds requests, the route switches first, then the source stops and the target starts")
        void routeFirstBehindAHoldingProxy() {
            FlakyRouter holding = new FlakyRouter();
            holding.holds = true;
            orchestrator = newOrchestrator(OrchestratorSettings.DEFAULTS, holding);
            fleet.durations(Duration.ofSeconds(4));
            Migration m = runToEnd(webFromAToB());
            assertThat(m.state()).isEqualTo(DONE);
            assertThat(m.facts()).containsEntry(StateMachine.FACT_CUTOVER_ORDER, StateMachine.ROUTE_FIRST);
            Span route = m.operations().get(OperationKind.SWITCH_ROUTE);
            Span stop = m.operations().get(OperationKind.STOP_SOURCE);
            Span start = m.operations().get(OperationKind.START_TARGET);
            assertThat(route.end().get()).isBeforeOrEqualTo(stop.start());
            assertThat(m.downtime()).contains(Duration.between(stop.start(), start.end().get()));
            assertThat(router.current(m.app())).contains(new Upstream("127.0.0.2", 8080));
            assertThat(fleet.runningOn(m.app())).containsExactly("b");
        }

        @Test
        @DisplayName("behind a proxy that holds requests, an unhealthy target rolls back and the route points at the source again")
        void routeFirstRollsBack() {
            FlakyRouter holding = new FlakyRouter();
            holding.holds = true;
            orchestrator = newOrchestrator(OrchestratorSettings.DEFAULTS, holding);
            Migration m = webFromAToB();
            String beforeA = fleet.snapshotOf("a");
            String beforeB = fleet.snapshotOf("b");
            fleet.failAlways(OperationKind.START_TARGET);
            while (!m.started(OperationKind.STOP_SOURCE)) {
                m = tick(m, 1);
                if (m.started(OperationKind.SWITCH_ROUTE) && !m.isTerminal()) {
                    assertThat(router.current(m.app())).contains(new Upstream("127.0.0.2", 8080));
                }
            }
            m = runToEnd(m);
            assertThat(m.state()).isEqualTo(FAILED);
            assertThat(router.current(m.app())).contains(new Upstream("127.0.0.1", 8080));
            assertThat(fleet.runningOn(m.app())).containsExactly("a");
            assertThat(fleet.snapshotOf("a")).isEqualTo(beforeA);
            assertThat(fleet.snapshotOf("b")).isEqualTo(beforeB);
        }

        @Test
        @DisplayName("a target that never becomes healthy rolls back: target removed, source serving, route unchanged")
        void unhealthyTargetRollsBack() {
            fleet.failAlways(OperationKind.START_TARGET); // its health gate never passes
            Migration m = webFromAToB();
            String beforeA = fleet.snapshotOf("a");
            m = runToEnd(m);
            assertThat(m.state()).isEqualTo(FAILED);
            assertThat(m.failure().get().reason()).isEqualTo("start-target on node b failed: injected failure of start-target");
            assertThat(fleet.runningOn(m.app())).containsExactly("a");
            assertThat(router.current(m.app())).contains(new Upstream("127.0.0.1", 8080));
            assertThat(fleet.snapshotOf("a")).isEqualTo(beforeA);
        }
    }

    @Nested
    @DisplayName("abort")
    class Aborting {
        @ParameterizedTest(name = "in {0}")
        @EnumSource(value = MigrationState.class, names = {"PENDING", "SNAPSHOTTING", "TRANSFERRING", "RESTORING", "CUTOVER"})
        @DisplayName("marks the migration failed with the reason and leaves both nodes as they were")
        void abortRestoresBothNodes(MigrationState when) {
            fleet.durations(Duration.ofSeconds(10));
            Migration m = webFromAToB();
            String beforeA = fleet.snapshotOf("a");
            String beforeB = fleet.snapshotOf("b");
            Optional<Upstream> route = router.current(m.app());
            while (m.state() != when) {
                m = tick(m, 1);
            }
            while (when == CUTOVER && !m.finished(OperationKind.STOP_SOURCE)) {
                m = tick(m, 1); // well into cutover: the source has stopped
            }
            assertThat(m.state()).isEqualTo(when);
            m = orchestrator.fail(m.id(), "maintenance window closed");
            assertThat(m.state()).isEqualTo(FAILED);
            assertThat(m.failure().get().reason()).isEqualTo("aborted: maintenance window closed");
            assertThat(m.failure().get().failedIn()).isEqualTo(when);
            assertThat(fleet.snapshotOf("a")).isEqualTo(beforeA);
            assertThat(fleet.snapshotOf("b")).isEqualTo(beforeB);
            assertThat(router.current(m.app())).isEqualTo(route);
            assertThat(fleet.runningOn(m.app())).containsExactly("a");
            assertThat(fleet.violations()).isEmpty();
        }

        @Test
        @DisplayName("in cutover after the route switched, points the route back and restarts the source")
        void abortAfterSwitchPointsRouteBack() {
            fleet.durations(Duration.ofSeconds(10));
            Migration m = webFromAToB();
            String beforeA = fleet.snapshotOf("a");
            String beforeB = fleet.snapshotOf("b");
            while (!m.finished(OperationKind.SWITCH_ROUTE)) {
                m = tick(m, 1);
            }
            assertThat(m.state()).as("retiring the source is still running").isEqualTo(CUTOVER);
            assertThat(router.current(m.app())).contains(new Upstream("127.0.0.2", 8080));
            m = orchestrator.fail(m.id(), "operator changed their mind");
            assertThat(router.current(m.app())).contains(new Upstream("127.0.0.1", 8080));
            assertThat(m.failure().get().compensation().actions()).endsWith("route: points at 127.0.0.1:8080");
            assertThat(fleet.runningOn(m.app())).containsExactly("a");
            assertThat(fleet.snapshotOf("a")).isEqualTo(beforeA);
            assertThat(fleet.snapshotOf("b")).isEqualTo(beforeB);
        }

        @Test
        @DisplayName("of a finished migration is refused")
        void refusesAbortOnTerminal() {
            Migration m = runToEnd(webFromAToB());
            assertThatThrownBy(() -> orchestrator.fail(m.id(), "too late"))
                    .isInstanceOf(TerminalMigrationException.class)
                    .hasMessageStartingWith("migration m-t-1 is DONE and cannot fail");
        }

        @Test
        @DisplayName("refuses a reason with control characters")
        void refusesBadReason() {
            Migration m = webFromAToB();
            assertThatThrownBy(() -> orchestrator.fail(m.id(), "line\nbreak"))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage("reason must not hold control characters, but was 'line\\u000abreak'");
            assertThat(orchestrator.get(m.id())).isEqualTo(m);
        }
    }

    @Nested
    @DisplayName("crashes and other control planes")
    class Crashes {
        @Test
        @DisplayName("a control plane rebuilt from the store adopts the migration with a higher epoch and finishes it")
        void rebuiltFromStore() {
            fleet.durations(Duration.ofSeconds(20));
            Migration m = tick(webFromAToB(), 3);
            assertThat(m.state()).isIn(SNAPSHOTTING, TRANSFERRING);
            orchestrator = newOrchestrator(OrchestratorSettings.DEFAULTS); // the old one is gone
            Migration adopted = tick(m, 1);
            assertThat(adopted.epoch()).isEqualTo(m.epoch() + 1);
            m = runToEnd(adopted);
            assertThat(m.state()).isEqualTo(DONE);
            assertThat(fleet.workStarts().values()).containsOnly(1);
        }

        @Test
        @DisplayName("a second migration of an app starts above every epoch the app had before")
        void epochsGrowAcrossMigrations() {
            Migration first = runToEnd(webFromAToB());
            Migration back = orchestrator.create("web", "b", "a");
            assertThat(back.epoch()).isGreaterThan(first.epoch());
            assertThat(runToEnd(back).state()).isEqualTo(DONE);
            assertThat(fleet.runningOn(AppRef.container("web"))).containsExactly("a");
        }

        @Test
        @DisplayName("listeners hear every save in order")
        void listenersHearEverySave() {
            Migration m = runToEnd(webFromAToB());
            assertThat(saved).hasSize((int) m.version());
            assertThat(saved.get(0)).isEqualTo("PENDING@1");
            assertThat(saved.get(saved.size() - 1)).isEqualTo("DONE@" + m.version());
        }
    }

    @Nested
    @DisplayName("replaying a kept archive")
    class Replaying {
        private Migration failedAtRestore() {
            fleet.failAlways(OperationKind.RESTORE);
            Migration first = runToEnd(webFromAToB());
            assertThat(first.state()).isEqualTo(FAILED);
            assertThat(first.archive()).isPresent();
            return first;
        }

        @Test
        @DisplayName("a migration that failed after its snapshot runs again from its archive, without a new snapshot")
        void replaysAFailedMigration() {
            Migration first = failedAtRestore();
            java.util.regex.Matcher data = java.util.regex.Pattern.compile("fingerprint=[^,]+")
                    .matcher(fleet.snapshotOf("a"));
            assertThat(data.find()).isTrue();
            String fingerprint = data.group();
            fleet.failNoMore(OperationKind.RESTORE);

            Migration replay = orchestrator.replay(first.id().value(), "a", "c");
            assertThat(replay.state()).isEqualTo(PENDING);
            assertThat(replay.archive()).isEqualTo(first.archive());
            assertThat(replay.facts()).containsEntry(Orchestrator.FACT_REPLAY_OF, first.id().value());
            assertThat(replay.epoch()).isGreaterThan(first.epoch());

            Migration done = runToEnd(replay);
            assertThat(done.state()).isEqualTo(DONE);
            assertThat(done.archive().get().sha256()).isEqualTo(first.archive().get().sha256());
            assertThat(fleet.runningOn(AppRef.container("web"))).containsExactly("c");
            assertThat(fleet.snapshotOf("c")).as("the volume's content arrived on c").contains(fingerprint);
            assertThat(fleet.violations()).isEmpty();
        }

        @Test
        @DisplayName("refuses an active migration, one without an archive, another source, and an unknown id")
        void refusesWhatCannotBeReplayed() {
            Migration active = webFromAToB();
            assertThatThrownBy(() -> orchestrator.replay(active.id().value(), "a", "b"))
                    .isInstanceOf(ConflictException.class).hasMessageContaining("still pending");
            Migration noArchive = orchestrator.fail(active.id(), "changed my mind");
            assertThatThrownBy(() -> orchestrator.replay(noArchive.id().value(), "a", "b"))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("has no archive");

            Migration failed = failedAtRestore();
            assertThatThrownBy(() -> orchestrator.replay(failed.id().value(), "b", "c"))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessageContaining("starts on the node that wrote the archive");
            assertThatThrownBy(() -> orchestrator.replay(failed.id().value(), "a", "a"))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("must differ from source");
            assertThatThrownBy(() -> orchestrator.replay("t-404", "a", "b"))
                    .isInstanceOf(MigrationNotFoundException.class);
            assertThatThrownBy(() -> orchestrator.replay("../x", "a", "b"))
                    .isInstanceOf(InvalidInputException.class);
            int stored = store.list().size();
            assertThat(stored).isEqualTo(2);
        }

        @Test
        @DisplayName("a replay whose kept archive is gone fails in snapshotting, and the source is as it was")
        void keptArchiveGone() {
            Migration first = failedAtRestore();
            fleet.failNoMore(OperationKind.RESTORE);
            fleet.dropArchive("a", first.id());
            String before = fleet.snapshotOf("a");
            Migration replay = runToEnd(orchestrator.replay(first.id().value(), "a", "b"));
            assertThat(replay.state()).isEqualTo(FAILED);
            assertThat(replay.failure().get().failedIn()).isEqualTo(SNAPSHOTTING);
            assertThat(replay.failure().get().reason()).contains("no kept archive");
            assertThat(fleet.runningOn(AppRef.container("web"))).containsExactly("a");
            assertThat(fleet.snapshotOf("a")).isEqualTo(before);
        }
    }

    @Nested
    @DisplayName("the retention sweep")
    class Retention {
        @Test
        @DisplayName("removes the archives of migrations ended longer ago than the retention, on every node, "
                + "and keeps those of active migrations and of the archive an active replay will adopt")
        void sweepsOnlyWhatIsOldAndUnreferenced() {
            Migration done = runToEnd(webFromAToB());
            assertThat(done.state()).isEqualTo(DONE);
            fleet.deploy("a", AppRef.container("api"), 8081);
            fleet.failAlways(OperationKind.RESTORE);
            Migration failed = runToEnd(orchestrator.create("api", "a", "b"));
            assertThat(failed.state()).isEqualTo(FAILED);
            fleet.failNoMore(OperationKind.RESTORE);
            Migration replay = orchestrator.replay(failed.id().value(), "a", "c");
            fleet.deploy("a", AppRef.container("db"), 8082);
            Migration active = tick(orchestrator.create("db", "a", "b"), 3);
            assertThat(active.isTerminal()).isFalse();
            String volumesOnA = fleet.node("a").inventory().volumes().toString();

            assertThat(orchestrator.sweepArchives(Duration.ofDays(7))).as("nothing is old enough yet").isEmpty();
            clock.advance(Duration.ofDays(8));
            List<String> removed = orchestrator.sweepArchives(Duration.ofDays(7));

            assertThat(removed).containsExactlyInAnyOrder("a: removed archive " + done.id() + ".tar",
                    "b: removed archive " + done.id() + ".tar");
            assertThat(fleet.hasArchive("a", failed.id())).as("the archive the active replay adopts").isTrue();
            assertThat(fleet.hasArchive("a", active.id())).as("an active migration's archive").isTrue();
            assertThat(fleet.node("a").inventory().volumes().toString()).as("volumes are never swept")
                    .isEqualTo(volumesOnA);
            assertThat(runToEnd(replay).state()).isEqualTo(DONE);
        }

        @Test
        @DisplayName("refuses a retention that is not positive")
        void refusesNonPositiveRetention() {
            assertThatThrownBy(() -> orchestrator.sweepArchives(Duration.ZERO))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("retention");
        }
    }
}
