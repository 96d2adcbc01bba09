package dev.fleet.migration.core;

import static dev.fleet.migration.core.MigrationState.CUTOVER;
import static dev.fleet.migration.core.MigrationState.DONE;
import static dev.fleet.migration.core.MigrationState.FAILED;
import static dev.fleet.migration.core.MigrationState.PENDING;
import static dev.fleet.migration.core.MigrationState.RESTORING;
import static dev.fleet.migration.core.MigrationState.SNAPSHOTTING;
import static dev.fleet.migration.core.MigrationState.TRANSFERRING;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.MigrationEvent.Advanced;
import dev.fleet.migration.core.MigrationEvent.Failed;
import dev.fleet.migration.core.MigrationEvent.OperationStarted;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.testing.Migrations;
import dev.fleet.migration.core.testing.MutableClock;
import io.vavr.control.Either;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

@DisplayName("The state machine: pending → snapshotting → transferring → restoring → cutover → done, any → failed")
class StateMachineTest {
    private final MutableClock clock = MutableClock.at("2026-03-01T10:00:00Z");

    /** Drives a fresh migration along the success path to {@code state}, through the real function. */
    private Migration in(MigrationState state) {
        Migration m = Migrations.pending("m-1", "web", clock.instant());
        while (m.state() != state) {
            for (OperationKind k : OperationKind.of(m.state())) {
                m = step(m, new OperationStarted(k));
                m = step(m, Migrations.finished(k, k == OperationKind.SNAPSHOT
                        ? Optional.of(Migrations.archive("m-1")) : Optional.empty()));
            }
            m = step(m, new Advanced());
        }
        return m;
    }

    private Migration step(Migration m, MigrationEvent e) {
        clock.advance(Duration.ofSeconds(1));
        return Migrations.apply(m, e, clock);
    }

    @Nested
    @DisplayName("the table")
    class Table {
        @Test
        @DisplayName("has exactly the seed's edges: each state to the next, every non-terminal state to failed")
        void hasTheSeedsEdges() {
            assertThat(Transitions.table()).containsExactly(
                    Map.entry(PENDING, EnumSet.of(SNAPSHOTTING, FAILED)),
                    Map.entry(SNAPSHOTTING, EnumSet.of(TRANSFERRING, FAILED)),
                    Map.entry(TRANSFERRING, EnumSet.of(RESTORING, FAILED)),
                    Map.entry(RESTORING, EnumSet.of(CUTOVER, FAILED)),
                    Map.entry(CUTOVER, EnumSet.of(DONE, FAILED)),
                    Map.entry(DONE, EnumSet.noneOf(MigrationState.class)),
                    Map.entry(FAILED, EnumSet.noneOf(MigrationState.class)));
        }

        static Stream<Arguments> illegalEdges() {
            return EnumSet.allOf(MigrationState.class).stream().flatMap(from ->
                    EnumSet.allOf(MigrationState.class).stream()
                            .filter(to -> !Transitions.isLegal(from, to))
                            .map(to -> Arguments.of(from, to)));
        }

        @ParameterizedTest(name = "{0} → {1} is rejected")
        @MethodSource("illegalEdges")
        @DisplayName("rejects every other edge with a message naming the migration, from and to")
        void rejectsIllegalEdge(MigrationState from, MigrationState to) {
            Either<Rejection, MigrationState> r = Transitions.check(MigrationId.of("m-9"), from, to);
            assertThat(r.isLeft()).isTrue();
            assertThat(r.getLeft().message())
                    .startsWith("migration m-9 cannot go from " + from + " to " + to + ": ");
        }

        @Test
        @DisplayName("has 39 illegal edges out of 49 pairs")
        void countsIllegalEdges() {
            assertThat(illegalEdges()).hasSize(49 - 10);
        }
    }

    @Nested
    @DisplayName("each state")
    class EachState {
        @Test
        @DisplayName("pending: recorded, version 1, nothing started, the step's clock running")
        void pending() {
            Migration m = in(PENDING);
            assertThat(m.version()).isEqualTo(1);
            assertThat(m.operations()).isEmpty();
            assertThat(m.steps()).containsOnlyKeys(PENDING);
            assertThat(m.steps().get(PENDING).end()).isEmpty();
        }

        @Test
        @DisplayName("snapshotting cannot move on until the snapshot finished and reported its archive")
        void snapshottingNeedsItsArchive() {
            Migration m = step(in(SNAPSHOTTING), new OperationStarted(OperationKind.SNAPSHOT));
            Either<Rejection, Migration> r = StateMachine.apply(m, new Advanced(), clock);
            assertThat(r.getLeft().message()).isEqualTo("migration m-1 cannot go from SNAPSHOTTING to TRANSFERRING:"
                    + " operation snapshot of SNAPSHOTTING has not finished");
            Either<Rejection, Migration> noArchive = StateMachine.apply(m,
                    Migrations.finished(OperationKind.SNAPSHOT, Optional.empty()), clock);
            assertThat(noArchive.getLeft().reason()).isEqualTo("a snapshot must report its archive");
        }

        @Test
        @DisplayName("cutover's operations run in order: the target cannot start before the source stopped")
        void cutoverRunsInOrder() {
            Migration m = in(CUTOVER);
            Either<Rejection, Migration> r = StateMachine.apply(m, new OperationStarted(OperationKind.START_TARGET), clock);
            assertThat(r.getLeft().reason())
                    .isEqualTo("operation start-target cannot start before stop-source finished");
        }

        @Test
        @DisplayName("cutover records the downtime from the source's stop to the route's switch")
        void cutoverMeasuresDowntime() {
            Migration m = in(CUTOVER);
            m = step(m, new OperationStarted(OperationKind.STOP_SOURCE));
            m = step(m, Migrations.finished(OperationKind.STOP_SOURCE, Optional.empty()));
            m = step(m, new OperationStarted(OperationKind.START_TARGET));
            m = step(m, Migrations.finished(OperationKind.START_TARGET, Optional.empty()));
            m = step(m, new OperationStarted(OperationKind.SWITCH_ROUTE));
            m = step(m, Migrations.finished(OperationKind.SWITCH_ROUTE, Optional.empty()));
            assertThat(m.downtime()).contains(Duration.ofSeconds(5));
        }

        @Test
        @DisplayName("done: every step has a start and an end, and the archive is kept")
        void done() {
            Migration m = in(DONE);
            assertThat(m.steps()).containsOnlyKeys(PENDING, SNAPSHOTTING, TRANSFERRING, RESTORING, CUTOVER, DONE);
            assertThat(m.steps().values()).allMatch(Span::isFinished);
            assertThat(m.archive()).isPresent();
            assertThat(m.operations().keySet()).containsExactlyInAnyOrder(OperationKind.values());
        }

        @ParameterizedTest(name = "{0} absorbs every event")
        @EnumSource(value = MigrationState.class, names = {"DONE", "FAILED"})
        @DisplayName("done and failed absorb: every event is rejected, naming the terminal state")
        void terminalStatesAbsorb(MigrationState terminal) {
            Migration m = terminal == DONE ? in(DONE) : step(in(RESTORING),
                    new Failed("x", Compensation.NOT_NEEDED));
            for (MigrationEvent e : List.of(new Advanced(), new Failed("again", Compensation.NOT_NEEDED),
                    new MigrationEvent.Waiting("w"), new MigrationEvent.Adopted(99),
                    new OperationStarted(OperationKind.SNAPSHOT))) {
                Either<Rejection, Migration> r = StateMachine.apply(m, e, clock);
                assertThat(r.getLeft().reason()).isEqualTo(terminal + " is terminal");
            }
        }
    }

    @Nested
    @DisplayName("failing")
    class Failing {
        @ParameterizedTest(name = "from {0}")
        @EnumSource(value = MigrationState.class, names = {"PENDING", "SNAPSHOTTING", "TRANSFERRING", "RESTORING", "CUTOVER"})
        @DisplayName("any non-terminal state fails, keeping the reason, the state it failed in and the compensation")
        void failsFromEveryActiveState(MigrationState from) {
            Migration before = in(from);
            Compensation c = new Compensation(Compensation.Outcome.COMPLETE, List.of("source a: started web"));
            Migration m = step(before, new Failed("aborted: maintenance cancelled", c));
            assertThat(m.state()).isEqualTo(FAILED);
            assertThat(m.failure()).contains(new Failure("aborted: maintenance cancelled", from, c));
            assertThat(m.steps().get(from).isFinished()).isTrue();
            assertThat(m.version()).isEqualTo(before.version() + 1);
        }
    }

    @Nested
    @DisplayName("every accepted event")
    class EveryEvent {
        @Test
        @DisplayName("raises the version by exactly one and never moves updatedAt back, even if the clock does")
        void versionAndTime() {
            Migration m = in(TRANSFERRING);
            clock.set(m.updatedAt().minusSeconds(3600));
            Migration n = StateMachine.apply(m, new MigrationEvent.Waiting("w"), clock).get();
            assertThat(n.version()).isEqualTo(m.version() + 1);
            assertThat(n.updatedAt()).isEqualTo(m.updatedAt());
        }

        @Test
        @DisplayName("an operation cannot be started twice in one migration")
        void noDoubleStart() {
            Migration m = step(in(SNAPSHOTTING), new OperationStarted(OperationKind.SNAPSHOT));
            assertThat(StateMachine.apply(m, new OperationStarted(OperationKind.SNAPSHOT), clock).getLeft().reason())
                    .isEqualTo("operation snapshot was already started in epoch 1");
        }

        @Test
        @DisplayName("adoption must raise the epoch")
        void adoptionRaisesEpoch() {
            Migration m = in(PENDING);
            assertThat(StateMachine.apply(m, new MigrationEvent.Adopted(1), clock).isLeft()).isTrue();
            assertThat(StateMachine.apply(m, new MigrationEvent.Adopted(2), clock).get().epoch()).isEqualTo(2);
        }
    }
}
