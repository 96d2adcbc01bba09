package dev.fleet.migration.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.memory.InMemoryMigrationLeases;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.core.testing.MutableClock;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Two replicas sharing a store and its leases")
class OrchestratorLeaseTest {
    private static final Duration TTL = Duration.ofSeconds(15);
    private final MutableClock clock = MutableClock.at("2026-03-01T10:00:00Z");
    private final FakeFleet fleet = new FakeFleet(clock, 11);
    private final InMemoryMigrationStore store = new InMemoryMigrationStore();
    private final InMemoryMigrationLeases leases = new InMemoryMigrationLeases();
    private final Orchestrator one = replica("cp-1");
    private final Orchestrator two = replica("cp-2");

    private Orchestrator replica(String name) {
        return Orchestrator.builder().store(store)
                .node(fleet.node("a"), "127.0.0.1").node(fleet.node("b"), "127.0.0.2")
                .clock(clock).sleeper(clock::advance).ids(MigrationIds.sequential(name))
                .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ZERO))
                .leases(leases, name, TTL)
                .crashPoints(CrashPoints.NONE)
                .build();
    }

    private Migration create() {
        fleet.deploy("a", AppRef.container("web"), 8080);
        return one.create("web", "a", "b");
    }

    @Test
    @DisplayName("only the replica holding the lease ticks: the other changes nothing and the epoch never moves")
    void onlyTheHolderTicks() {
        Migration m = create();
        long epoch = m.epoch();
        for (int i = 0; i < 40 && !m.isTerminal(); i++) {
            clock.advance(Duration.ofSeconds(1));
            Migration before = store.find(m.id()).orElseThrow();
            Migration seenByTwo = two.advance(m.id());
            assertThat(store.find(m.id()).orElseThrow()).as("replica two changed nothing").isEqualTo(before);
            assertThat(seenByTwo).isEqualTo(before);
            m = one.advance(m.id());
            assertThat(m.epoch()).as("no ping-pong: the epoch stays the creator's").isEqualTo(epoch);
        }
        assertThat(m.state()).isEqualTo(MigrationState.DONE);
        assertThat(leases.find(m.id())).as("released when it ended").isEmpty();
    }

    @Test
    @DisplayName("when the holder stops renewing, the other adopts once the lease expired, with a new epoch, and finishes")
    void takesOverAfterTheLeaseExpired() {
        Migration m = create();
        m = one.advance(m.id()); // into SNAPSHOTTING
        long epoch = m.epoch();
        clock.advance(TTL.minusSeconds(1));
        assertThat(two.advance(m.id()).epoch()).as("not yet expired").isEqualTo(epoch);
        clock.advance(Duration.ofSeconds(2));
        m = two.advance(m.id());
        assertThat(m.epoch()).as("adopted with a new epoch").isEqualTo(epoch + 1);
        assertThat(leases.find(m.id()).orElseThrow().owner()).isEqualTo("cp-2");
        // the old holder comes back: it neither ticks nor adopts while two renews
        for (int i = 0; i < 40 && !m.isTerminal(); i++) {
            clock.advance(Duration.ofSeconds(1));
            Migration before = store.find(m.id()).orElseThrow();
            assertThat(one.advance(m.id())).isEqualTo(before);
            m = two.advance(m.id());
        }
        assertThat(m.state()).isEqualTo(MigrationState.DONE);
        assertThat(m.epoch()).isEqualTo(epoch + 1);
        assertThat(fleet.violations()).isEmpty();
    }

    @Test
    @DisplayName("an abort on the replica that does not hold the lease takes the migration over and sticks")
    void abortTakesOver() {
        Migration m = create();
        m = one.advance(m.id());
        m = two.fail(m.id(), "operator changed their mind");
        assertThat(m.state()).isEqualTo(MigrationState.FAILED);
        assertThat(fleet.violations()).isEmpty();
    }

    @Test
    @DisplayName("a closed replica hands its leases over at once")
    void closeReleases() {
        Migration m = create();
        one.advance(m.id());
        one.close();
        assertThat(leases.find(m.id())).isEmpty();
        assertThat(two.advance(m.id()).epoch()).isEqualTo(m.epoch() + 1);
    }
}
