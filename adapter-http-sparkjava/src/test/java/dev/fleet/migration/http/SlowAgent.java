package dev.fleet.migration.http;

import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.Progress;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.core.spi.NodeInventory;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.core.spi.OperationStatus;
import dev.fleet.migration.core.spi.PreflightReport;
import dev.fleet.migration.core.spi.PreflightRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Wraps an agent so every operation takes at least {@code minimum} of wall-clock time and
 * reports byte progress (1 MiB in total) while it runs: a browser can watch each step.
 */
public final class SlowAgent implements NodeAgent {
    private static final long TOTAL = 1 << 20;
    private final NodeAgent inner;
    private final Duration minimum;
    private final Map<String, Long> started = new ConcurrentHashMap<>();

    public SlowAgent(NodeAgent inner, Duration minimum) {
        this.inner = inner;
        this.minimum = minimum;
    }

    @Override
    public NodeId node() {
        return inner.node();
    }

    @Override
    public PreflightReport preflight(PreflightRequest request) {
        return inner.preflight(request);
    }

    @Override
    public OperationStatus submit(OperationRequest request) {
        started.putIfAbsent(request.key().migration() + "/" + request.kind(), System.nanoTime());
        return hold(request.key(), inner.submit(request));
    }

    @Override
    public Optional<OperationStatus> status(OperationKey key) {
        return inner.status(key).map(s -> hold(key, s));
    }

    private OperationStatus hold(OperationKey key, OperationStatus s) {
        Long t0 = started.get(key.migration() + "/" + key.kind());
        if (t0 == null || s.phase() == OperationStatus.Phase.FAILED) {
            return s;
        }
        long elapsed = System.nanoTime() - t0;
        if (elapsed >= minimum.toNanos()) {
            return s;
        }
        double f = (double) elapsed / minimum.toNanos();
        double seconds = Math.max(0.001, elapsed / 1e9);
        return OperationStatus.running(key, new Progress((long) (f * TOTAL), TOTAL, f * TOTAL / seconds));
    }

    @Override
    public List<String> compensate(CompensationRequest request) {
        return inner.compensate(request);
    }

    @Override
    public NodeInventory inventory() {
        return inner.inventory();
    }
}
