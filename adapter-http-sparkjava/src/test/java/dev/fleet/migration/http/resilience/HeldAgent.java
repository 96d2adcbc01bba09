package dev.fleet.migration.http.resilience;

import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.core.spi.NodeInventory;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.core.spi.OperationStatus;
import dev.fleet.migration.core.spi.PreflightReport;
import dev.fleet.migration.core.spi.PreflightRequest;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A node agent as a paused control plane sees it: it forwards every call to the real agent,
 * except that it holds the calling (ticking) thread, once, at one place — before a submit of
 * {@code kind} reaches the node, or after a status poll reported {@code kind} finished — until
 * the test releases it. What the real agent answered after the release is kept.
 */
final class HeldAgent implements NodeAgent {
    enum Where { BEFORE_SUBMIT, AFTER_SUCCEEDED_STATUS }

    private final NodeAgent real;
    private final OperationKind kind;
    private final Where where;
    final CountDownLatch holding = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile boolean used;
    volatile RuntimeException refusal;

    HeldAgent(NodeAgent real, OperationKind kind, Where where) {
        this.real = real;
        this.kind = kind;
        this.where = where;
    }

    void release() {
        release.countDown();
    }

    private void hold() {
        used = true;
        holding.countDown();
        try {
            if (!release.await(5, TimeUnit.MINUTES)) {
                throw new AssertionError("never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public NodeId node() {
        return real.node();
    }

    @Override
    public PreflightReport preflight(PreflightRequest request) {
        return real.preflight(request);
    }

    @Override
    public OperationStatus submit(OperationRequest request) {
        if (where == Where.BEFORE_SUBMIT && !used && request.key().kind() == kind) {
            hold();
            try {
                return real.submit(request);
            } catch (RuntimeException e) {
                refusal = e;
                throw e;
            }
        }
        return real.submit(request);
    }

    @Override
    public Optional<OperationStatus> status(OperationKey key) {
        Optional<OperationStatus> s = real.status(key);
        if (where == Where.AFTER_SUCCEEDED_STATUS && !used && key.kind() == kind
                && s.map(x -> x.phase() == OperationStatus.Phase.SUCCEEDED).orElse(false)) {
            hold();
        }
        return s;
    }

    @Override
    public List<String> compensate(CompensationRequest request) {
        return real.compensate(request);
    }

    @Override
    public NodeInventory inventory() {
        return real.inventory();
    }
}
