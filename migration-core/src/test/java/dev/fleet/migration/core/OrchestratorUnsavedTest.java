package dev.fleet.migration.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.spi.MigrationStore;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.core.testing.MutableClock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("A tick whose save fails (a full disk under the store)")
class OrchestratorUnsavedTest {
    private final MutableClock clock = MutableClock.at("2026-03-01T10:00:00Z");
    private final FakeFleet fleet = new FakeFleet(clock, 5);
    private final FullingStore store = new FullingStore();
    private final Orchestrator orchestrator = Orchestrator.builder().store(store)
            .node(fleet.node("a"), "127.0.0.1").node(fleet.node("b"), "127.0.0.2")
            .clock(clock).sleeper(clock::advance).ids(MigrationIds.sequential("m"))
            .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ZERO))
            .build();

    /**
     * An in-memory store whose next {@code failing} updates fail like a full disk: space that
     * comes back between two saves of one tick, the case where treating the failed save as a
     * failed step would end a healthy migration FAILED.
     */
    static final class FullingStore implements MigrationStore {
        final InMemoryMigrationStore inner = new InMemoryMigrationStore();
        int failing;

        @Override
        public void insert(Migration m) {
            inner.insert(m);
        }

        @Override
        public void update(Migration next) {
            if (failing > 0) {
                failing--;
                throw new StoreException("the migration store could not update migration " + next.id()
                        + ": no space left on device");
            }
            inner.update(next);
        }

        @Override
        public Optional<Migration> find(MigrationId id) {
            return inner.find(id);
        }

        @Override
        public List<Migration> list() {
            return inner.list();
        }

        @Override
        public List<Migration> active() {
            return inner.active();
        }

        @Override
        public long maxEpoch(AppRef app) {
            return inner.maxEpoch(app);
        }

        @Override
        public List<Migration> history(MigrationId id) {
            return inner.history(id);
        }
    }

    @Test
    @DisplayName("ends at the last saved state, is not marked failed, asks no node for more, and goes on once space is back")
    void stopsUnsavedAndGoesOnLater() {
        fleet.deploy("a", AppRef.container("web"), 8080);
        Migration m = orchestrator.create("web", "a", "b");
        for (int i = 0; i < 10 && m.state() != MigrationState.TRANSFERRING; i++) {
            clock.advance(Duration.ofSeconds(1));
            m = orchestrator.advance(m.id());
        }
        assertThat(m.state()).isEqualTo(MigrationState.TRANSFERRING);
        Migration saved = store.find(m.id()).orElseThrow();
        Map<String, Integer> workBefore = fleet.workStarts();

        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofSeconds(1));
            store.failing = 1;
            MigrationId id = m.id();
            assertThatThrownBy(() -> orchestrator.advance(id)).isInstanceOf(StoreException.class)
                    .hasMessageContaining("no space left");
        }
        assertThat(store.find(m.id()).orElseThrow()).as("nothing saved, nothing marked failed").isEqualTo(saved);
        assertThat(store.history(m.id())).last().isEqualTo(saved);
        assertThat(fleet.workStarts()).as("no node was asked to start anything past the saved state")
                .isEqualTo(workBefore);

        for (int i = 0; i < 40 && !m.isTerminal(); i++) {
            clock.advance(Duration.ofSeconds(1));
            m = orchestrator.advance(m.id());
        }
        assertThat(m.state()).isEqualTo(MigrationState.DONE);
        assertThat(fleet.runningOn(AppRef.container("web"))).containsExactly("b");
        assertThat(fleet.violations()).isEmpty();
    }
}
