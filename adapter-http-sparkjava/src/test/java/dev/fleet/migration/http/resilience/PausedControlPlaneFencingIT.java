package dev.fleet.migration.http.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.CrashPoints;
import dev.fleet.migration.core.FencedException;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.http.agent.HttpNodeAgent;
import dev.fleet.migration.store.jdbc.SqliteMigrationStore;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 9, "fencing": control plane A is paused in the middle of a tick (its ticking thread
 * held, as a SIGSTOP or a long GC pause would hold it) past its lease; control plane B takes
 * the migration over with a higher epoch and finishes it; then A wakes up and carries on where
 * it was. The agents (real Docker agents over HTTP) refuse A's call, the store refuses A's
 * save, and nothing changes: not the engines, not the record, not its history.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PausedControlPlaneFencingIT {
    private static final Duration LEASE = Duration.ofSeconds(1);

    private ResilienceFleet fleet;

    @BeforeAll
    void startAgents() throws Exception {
        fleet = new ResilienceFleet("fencing");
    }

    @AfterAll
    void stopAgents() throws Exception {
        if (fleet != null) {
            fleet.close();
        }
    }

    private NodeAgent http(int i) {
        return HttpNodeAgent.builder(NodeId.of(i == 0 ? "a" : "b"), URI.create(fleet.agentUrl(i)))
                .token(ResilienceFleet.AGENT).build();
    }

    private Orchestrator replica(SqliteMigrationStore store, String name, NodeAgent a, NodeAgent b) {
        return Orchestrator.builder().store(store).node(a, "127.0.0.1").node(b, "127.0.0.2")
                .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ZERO))
                .leases(store.leases(), name, LEASE).crashPoints(CrashPoints.NONE).build();
    }

    /** Ticks until the migration ends (or the thread is told to stop by an exception). */
    private static Migration run(Orchestrator o, Migration m) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!m.isTerminal() && System.nanoTime() < deadline) {
            m = o.advance(m.id());
            TimeUnit.MILLISECONDS.sleep(50);
        }
        return m;
    }

    @Test
    @DisplayName("A, held before asking the source to stop, wakes after B finished: the agent refuses its epoch, nothing changes")
    void agentsRefuseTheWokenControlPlane() throws Exception {
        try (SqliteMigrationStore store = SqliteMigrationStore.open(fleet.dir.resolve("fencing-agent.db"))) {
            HeldAgent heldA = new HeldAgent(http(0), OperationKind.STOP_SOURCE, HeldAgent.Where.BEFORE_SUBMIT);
            Orchestrator a = replica(store, "cp-A", heldA, http(1));
            Orchestrator b = replica(store, "cp-B", http(0), http(1));
            ResilienceFleet.App app = fleet.deploy("fence");
            CopyWatch watch = new CopyWatch(fleet, Set.of(app.name())).start();
            Migration created = a.create(app.name(), "a", "b");
            CompletableFuture<Migration> paused = CompletableFuture.supplyAsync(() -> {
                try {
                    return run(a, created);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(heldA.holding.await(2, TimeUnit.MINUTES)).as("A reached the source's stop").isTrue();
            Migration atPause = store.find(created.id()).orElseThrow();
            assertThat(atPause.state()).isEqualTo(MigrationState.CUTOVER);
            assertThat(atPause.started(OperationKind.STOP_SOURCE)).isTrue();

            TimeUnit.MILLISECONDS.sleep(LEASE.toMillis() + 300); // A's lease runs out while it is held
            Migration finished = run(b, atPause);
            assertThat(finished.state()).isEqualTo(MigrationState.DONE);
            assertThat(finished.epoch()).as("B adopted with a higher epoch").isEqualTo(atPause.epoch() + 1);
            Migration stored = store.find(created.id()).orElseThrow();
            int history = store.history(created.id()).size();
            TreeMap<String, String> engineA = Docker.view(fleet.dockerA, app.name());
            TreeMap<String, String> engineB = Docker.view(fleet.dockerB, app.name());

            heldA.release(); // A wakes and sends its stop with the old epoch
            Migration seenByA = paused.get(2, TimeUnit.MINUTES);
            watch.stop();

            assertThat(heldA.refusal).as("the source's agent refused A's stop").isInstanceOf(FencedException.class);
            assertThat(((FencedException) heldA.refusal).getMessage()).contains(String.valueOf(atPause.epoch()));
            assertThat(seenByA).as("A reports the record as B left it").isEqualTo(stored);
            assertThat(store.find(created.id()).orElseThrow()).as("the record is unchanged").isEqualTo(stored);
            assertThat(store.history(created.id())).as("no save by A").hasSize(history);
            assertThat(Docker.view(fleet.dockerA, app.name())).as("node a unchanged").isEqualTo(engineA);
            assertThat(Docker.view(fleet.dockerB, app.name())).as("node b unchanged").isEqualTo(engineB);
            assertThat(engineB.get("container " + app.name())).startsWith("running=true ");
            assertThat(watch.violations(app.name())).isEmpty();
            assertThat(ResilienceFleet.httpGet(app.port())).isEqualTo("served by " + app.name() + "\n");
            a.close();
            b.close();
            fleet.remove(app);
        }
    }

    @Test
    @DisplayName("A, held between the agent's acknowledgement and its save, wakes after B moved on: the store refuses, nothing changes")
    void storeRefusesTheWokenControlPlane() throws Exception {
        try (SqliteMigrationStore store = SqliteMigrationStore.open(fleet.dir.resolve("fencing-store.db"))) {
            HeldAgent heldB = new HeldAgent(http(1), OperationKind.RESTORE, HeldAgent.Where.AFTER_SUCCEEDED_STATUS);
            Orchestrator a = replica(store, "cp-A", http(0), heldB);
            Orchestrator b = replica(store, "cp-B", http(0), http(1));
            ResilienceFleet.App app = fleet.deploy("fence");
            TreeMap<String, String> before = Docker.view(fleet.dockerA, app.name());
            CopyWatch watch = new CopyWatch(fleet, Set.of(app.name())).start();
            Migration created = a.create(app.name(), "a", "b");
            CompletableFuture<Migration> paused = CompletableFuture.supplyAsync(() -> {
                try {
                    return run(a, created);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(heldB.holding.await(2, TimeUnit.MINUTES)).as("A saw the restore finish").isTrue();
            Migration atPause = store.find(created.id()).orElseThrow();
            assertThat(atPause.state()).isEqualTo(MigrationState.RESTORING);
            assertThat(atPause.finished(OperationKind.RESTORE)).as("not saved yet").isFalse();

            TimeUnit.MILLISECONDS.sleep(LEASE.toMillis() + 300);
            // B takes over and aborts: the app must end on node a exactly as it was
            Migration failed = b.fail(created.id(), "operator: stop it");
            assertThat(failed.state()).isEqualTo(MigrationState.FAILED);
            Migration stored = store.find(created.id()).orElseThrow();
            int history = store.history(created.id()).size();
            assertThat(Docker.view(fleet.dockerA, app.name())).as("node a back as it was").isEqualTo(before);
            assertThat(Docker.view(fleet.dockerB, app.name())).as("nothing left on b").isEmpty();

            heldB.release(); // A wakes, records the restore and would start the cutover
            Migration seenByA = paused.get(2, TimeUnit.MINUTES);
            watch.stop();

            assertThat(seenByA).as("A reports the record as B left it").isEqualTo(stored);
            assertThat(store.find(created.id()).orElseThrow()).isEqualTo(stored);
            assertThat(store.history(created.id())).as("no save by A").hasSize(history);
            assertThat(Docker.view(fleet.dockerA, app.name())).as("node a unchanged").isEqualTo(before);
            assertThat(Docker.view(fleet.dockerB, app.name())).as("node b still holds nothing").isEmpty();
            assertThat(watch.violations(app.name())).isEmpty();
            assertThat(ResilienceFleet.httpGet(app.port())).isEqualTo("served by " + app.name() + "\n");
            a.close();
            b.close();
            fleet.remove(app);
        }
    }
}
