package dev.fleet.migration.http.security;

import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.core.spi.NodeInventory;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.core.spi.OperationStatus;
import dev.fleet.migration.core.spi.PreflightReport;
import dev.fleet.migration.core.spi.PreflightRequest;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link NodeAgent} that records every call made to it before passing it on to a real (fake
 * fleet) agent. A refused request must leave {@link #calls()} empty: the tests assert that, so
 * a validation that ran after the agent was reached fails them.
 */
public final class TripwireAgent implements NodeAgent {
    private final NodeAgent inner;
    private final List<String> calls = new CopyOnWriteArrayList<>();

    public TripwireAgent(NodeAgent inner) {
        this.inner = inner;
    }

    /** Every call so far, as {@code "submit m-1/snapshot"}. */
    public List<String> calls() {
        return List.copyOf(calls);
    }

    public void reset() {
        calls.clear();
    }

    @Override
    public NodeId node() {
        return inner.node(); // identity, asked by the wiring: not an operation
    }

    @Override
    public PreflightReport preflight(PreflightRequest request) {
        calls.add("preflight " + request.migration());
        return inner.preflight(request);
    }

    @Override
    public OperationStatus submit(OperationRequest request) {
        calls.add("submit " + request.key());
        return inner.submit(request);
    }

    @Override
    public Optional<OperationStatus> status(OperationKey key) {
        calls.add("status " + key);
        return inner.status(key);
    }

    @Override
    public List<String> compensate(CompensationRequest request) {
        calls.add("compensate " + request.migration());
        return inner.compensate(request);
    }

    @Override
    public List<String> sweepArchives(java.time.Instant olderThan, java.util.Set<dev.fleet.migration.core.MigrationId> keep) {
        calls.add("sweepArchives " + olderThan);
        return inner.sweepArchives(olderThan, keep);
    }

    @Override
    public NodeInventory inventory() {
        calls.add("inventory");
        return inner.inventory();
    }
}
