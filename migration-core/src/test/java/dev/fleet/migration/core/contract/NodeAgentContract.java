package dev.fleet.migration.core.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.FencedException;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.core.spi.NodeInventory;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.core.spi.OperationStatus;
import dev.fleet.migration.core.spi.PreflightReport;
import dev.fleet.migration.core.spi.PreflightRequest;
import dev.fleet.migration.core.spi.Role;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * What every {@link NodeAgent} must do: the in-process Docker agent and the HTTP client of the
 * agent API pass the same suite. A subclass provides two agents that can reach each other
 * (source and target) and a way to put a running app on the source.
 *
 * <p>Each test uses fresh app and migration names, so a subclass against real nodes needs no
 * cleanup between tests beyond what compensation does.
 */
public abstract class NodeAgentContract {

    /** The source node's agent (already able to push archives to {@link #target()}). */
    protected abstract NodeAgent source();

    /** The target node's agent. */
    protected abstract NodeAgent target();

    /**
     * Puts a running app named {@code name} on the source, with at least one named volume holding
     * data, and returns its reference.
     */
    protected abstract AppRef deployApp(String name);

    /** Puts a container named {@code name} on the target that no migration created. */
    protected abstract void deployForeignContainer(String name);

    /** Waits a little between polls; a fake with a settable clock moves its clock instead. */
    protected void pause() throws InterruptedException {
        Thread.sleep(50);
    }

    /** How long one operation may take in this environment. */
    protected Duration operationTimeout() {
        return Duration.ofMinutes(2);
    }

    protected String unique(String prefix) {
        return prefix + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36);
    }

    private MigrationId migration;
    private AppRef app;
    private long epoch;

    @BeforeEach
    void freshNames() {
        migration = MigrationId.of("m-" + unique("ct"));
        // epochs are per app and the app is fresh, so any start works; a high one keeps
        // real nodes that remember epochs across tests out of the way
        epoch = 1;
    }

    private OperationRequest request(OperationKind kind, Optional<ArchiveInfo> archive) {
        return new OperationRequest(new OperationKey(migration, kind, epoch), app, source().node(), target().node(),
                archive, operationTimeout());
    }

    private NodeAgent actor(OperationKind kind) {
        return kind.actor() == OperationKind.Actor.TARGET ? target() : source();
    }

    /** Submits and polls until the operation is no longer running. */
    private OperationStatus run(OperationKind kind, Optional<ArchiveInfo> archive) throws InterruptedException {
        OperationRequest r = request(kind, archive);
        OperationStatus s = actor(kind).submit(r);
        long deadline = System.nanoTime() + operationTimeout().toNanos();
        while (s.phase() == OperationStatus.Phase.RUNNING) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(kind + " still running after " + operationTimeout());
            }
            pause();
            s = actor(kind).status(r.key()).orElseThrow(() -> new AssertionError("the node forgot " + r.key()));
        }
        assertThat(s.phase()).as("%s ended with %s", kind, s.error()).isEqualTo(OperationStatus.Phase.SUCCEEDED);
        assertThat(s.key()).isEqualTo(r.key());
        return s;
    }

    private PreflightReport preflight(NodeAgent agent, Role role) {
        return agent.preflight(new PreflightRequest(migration, epoch, app, role, source().node(), target().node(), 0));
    }

    /** Runs the given operations in order, from the snapshot on; returns the archive. */
    private Optional<ArchiveInfo> runThrough(OperationKind last) throws InterruptedException {
        Optional<ArchiveInfo> archive = run(OperationKind.SNAPSHOT, Optional.empty()).archive();
        for (OperationKind k : OperationKind.values()) {
            if (k != OperationKind.SNAPSHOT && k.isNodeOperation() && k.ordinal() <= last.ordinal()) {
                run(k, archive);
            }
        }
        return archive;
    }

    private Set<OperationKind> allStarted() {
        return EnumSet.of(OperationKind.SNAPSHOT, OperationKind.TRANSFER, OperationKind.RESTORE);
    }

    @Nested
    @DisplayName("preflight")
    class Preflight {
        @Test
        @DisplayName("passes on both nodes for a running app with free names on the target")
        void passesForDeployedApp() {
            app = deployApp(unique("app"));
            assertThat(preflight(source(), Role.SOURCE).problems()).isEmpty();
            assertThat(preflight(target(), Role.TARGET).problems()).isEmpty();
        }

        @Test
        @DisplayName("on the source, names an app that does not exist")
        void reportsMissingApp() {
            app = AppRef.container(unique("missing"));
            assertThat(preflight(source(), Role.SOURCE).problems())
                    .anySatisfy(p -> assertThat(p).contains(app.name()));
        }

        @Test
        @DisplayName("on the target, names a foreign container that has the app's name")
        void reportsForeignConflict() {
            app = deployApp(unique("app"));
            deployForeignContainer(app.name());
            assertThat(preflight(target(), Role.TARGET).problems())
                    .anySatisfy(p -> assertThat(p).contains(app.name()));
        }

        @Test
        @DisplayName("changes nothing on either node")
        void changesNothing() {
            app = deployApp(unique("app"));
            NodeInventory s = source().inventory();
            NodeInventory t = target().inventory();
            preflight(source(), Role.SOURCE);
            preflight(target(), Role.TARGET);
            assertThat(source().inventory()).isEqualTo(s);
            assertThat(target().inventory()).isEqualTo(t);
        }
    }

    @Nested
    @DisplayName("operations")
    class Operations {
        @Test
        @DisplayName("run in order move the app: the target runs it, the source keeps it stopped under a retired name")
        void fullFlowMovesTheApp() throws Exception {
            app = deployApp(unique("app"));
            OperationStatus snap = run(OperationKind.SNAPSHOT, Optional.empty());
            assertThat(snap.archive()).isPresent();
            Optional<ArchiveInfo> archive = snap.archive();
            assertThat(run(OperationKind.TRANSFER, archive).facts())
                    .containsEntry(Orchestrator.FACT_VERIFIED_SHA256, archive.get().sha256());
            assertThat(run(OperationKind.RESTORE, archive).facts())
                    .containsEntry(Orchestrator.FACT_VERIFIED_SHA256, archive.get().sha256());
            assertThat(target().inventory().containers()).as("restored containers are created stopped")
                    .filteredOn(c -> c.name().startsWith(app.name())).isNotEmpty().noneMatch(NodeInventory.Container::running);
            run(OperationKind.STOP_SOURCE, archive);
            NodeInventory stopped = source().inventory();
            assertThat(stopped.containers()).filteredOn(c -> c.name().startsWith(app.name()))
                    .allSatisfy(c -> {
                        assertThat(c.running()).isFalse();
                        assertThat(c.restartPolicy()).isEqualTo("no");
                    });
            assertThat(run(OperationKind.START_TARGET, archive).facts()).containsEntry(Orchestrator.FACT_HEALTHY, "true");
            run(OperationKind.RETIRE_SOURCE, archive);
            assertThat(target().inventory().containers()).filteredOn(c -> c.name().startsWith(app.name()))
                    .isNotEmpty().allMatch(NodeInventory.Container::running);
            assertThat(source().inventory().containers()).filteredOn(c -> c.name().startsWith(app.name()))
                    .isNotEmpty()
                    .allSatisfy(c -> {
                        assertThat(c.name()).contains(".migrated-");
                        assertThat(c.running()).isFalse();
                    });
        }

        @Test
        @DisplayName("a repeated submit returns the first result and does not start the work again")
        void repeatedSubmitIsIdempotent() throws Exception {
            app = deployApp(unique("app"));
            OperationStatus first = run(OperationKind.SNAPSHOT, Optional.empty());
            OperationStatus again = source().submit(request(OperationKind.SNAPSHOT, Optional.empty()));
            assertThat(again.phase()).isEqualTo(OperationStatus.Phase.SUCCEEDED);
            assertThat(again.archive()).isEqualTo(first.archive());
            compensateBoth();
        }

        @Test
        @DisplayName("a higher epoch adopts the operation instead of starting it again")
        void higherEpochAdopts() throws Exception {
            app = deployApp(unique("app"));
            OperationStatus first = run(OperationKind.SNAPSHOT, Optional.empty());
            epoch = 2;
            OperationStatus adopted = run(OperationKind.SNAPSHOT, Optional.empty());
            assertThat(adopted.archive()).isEqualTo(first.archive());
            assertThat(adopted.key().epoch()).isEqualTo(2);
            compensateBoth();
        }

        @Test
        @DisplayName("an unknown operation has no status")
        void unknownOperationHasNoStatus() {
            app = deployApp(unique("app"));
            assertThat(source().status(new OperationKey(migration, OperationKind.SNAPSHOT, epoch))).isEmpty();
        }
    }

    @Nested
    @DisplayName("fencing")
    class Fencing {
        @Test
        @DisplayName("after a higher epoch was seen for the app, a lower one is refused and changes nothing")
        void refusesLowerEpoch() throws Exception {
            app = deployApp(unique("app"));
            epoch = 5;
            run(OperationKind.SNAPSHOT, Optional.empty());
            NodeInventory before = source().inventory();
            epoch = 4;
            assertThatThrownBy(() -> source().submit(request(OperationKind.SNAPSHOT, Optional.empty())))
                    .isInstanceOf(FencedException.class)
                    .hasMessageContaining("epoch 4").hasMessageContaining("epoch 5");
            assertThatThrownBy(() -> source().status(new OperationKey(migration, OperationKind.SNAPSHOT, 4)))
                    .isInstanceOf(FencedException.class);
            assertThat(source().inventory()).isEqualTo(before);
            epoch = 5;
            compensateBoth();
        }
    }

    @Nested
    @DisplayName("compensation")
    class Compensating {
        @Test
        @DisplayName("after restore, puts both nodes back to their inventories from before the migration")
        void undoesRestore() throws Exception {
            app = deployApp(unique("app"));
            NodeInventory s = source().inventory();
            NodeInventory t = target().inventory();
            runThrough(OperationKind.RESTORE);
            compensateBoth();
            assertThat(target().inventory()).isEqualTo(t);
            assertThat(source().inventory()).isEqualTo(s);
        }

        @Test
        @DisplayName("after the source stopped and the target started, stops the target and restarts the source")
        void undoesCutover() throws Exception {
            app = deployApp(unique("app"));
            NodeInventory s = source().inventory();
            NodeInventory t = target().inventory();
            runThrough(OperationKind.RETIRE_SOURCE);
            Set<OperationKind> started = EnumSet.allOf(OperationKind.class);
            target().compensate(new CompensationRequest(migration, epoch, app, Role.TARGET, started));
            source().compensate(new CompensationRequest(migration, epoch, app, Role.SOURCE, started));
            assertThat(target().inventory()).isEqualTo(t);
            assertThat(source().inventory()).isEqualTo(s);
        }

        @Test
        @DisplayName("is idempotent")
        void isIdempotent() throws Exception {
            app = deployApp(unique("app"));
            NodeInventory s = source().inventory();
            runThrough(OperationKind.TRANSFER);
            compensateBoth();
            compensateBoth();
            assertThat(source().inventory()).isEqualTo(s);
        }
    }

    private void compensateBoth() {
        target().compensate(new CompensationRequest(migration, epoch, app, Role.TARGET, allStarted()));
        source().compensate(new CompensationRequest(migration, epoch, app, Role.SOURCE, allStarted()));
    }
}
