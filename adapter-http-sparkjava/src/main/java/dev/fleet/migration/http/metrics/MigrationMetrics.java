package dev.fleet.migration.http.metrics;

import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.MigrationListener;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.Span;
import dev.fleet.migration.core.spi.OperationKind;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The control plane's Prometheus metrics, fed by every save of a migration:
 * <ul>
 *   <li>{@code fleet_migrations{state}}: how many migrations are in each state now;</li>
 *   <li>{@code fleet_migration_step_duration_seconds{state}}: how long each finished step took;</li>
 *   <li>{@code fleet_migration_bytes_moved_total}: archive bytes transferred between nodes;</li>
 *   <li>{@code fleet_migration_cutover_downtime_seconds}: measured cutover downtime;</li>
 *   <li>{@code fleet_migration_transitions_total{to}}: state changes.</li>
 * </ul>
 * Thread-safe; {@link #onSaved} does constant work.
 */
public final class MigrationMetrics implements MigrationListener {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<MigrationId, MigrationState> states = new ConcurrentHashMap<>();
    private final Counter bytesMoved;
    private final DistributionSummary downtime;

    /** @param existing the migrations already in the store, so the state gauges start right */
    public MigrationMetrics(List<Migration> existing) {
        existing.forEach(m -> states.put(m.id(), m.state()));
        for (MigrationState s : MigrationState.values()) {
            Gauge.builder("fleet_migrations", states, m -> m.values().stream().filter(x -> x == s).count())
                    .description("Migrations currently in each state").tag("state", s.wireName())
                    .register(registry);
        }
        bytesMoved = Counter.builder("fleet_migration_bytes_moved").baseUnit("bytes")
                .description("Archive bytes transferred from source to target nodes").register(registry);
        downtime = DistributionSummary.builder("fleet_migration_cutover_downtime_seconds")
                .description("Measured cutover downtime: from the source's stop to the route's switch")
                .register(registry);
    }

    @Override
    public void onSaved(Migration previous, Migration saved) {
        states.put(saved.id(), saved.state());
        if (previous == null) {
            return;
        }
        if (previous.state() != saved.state()) {
            Counter.builder("fleet_migration_transitions").tag("to", saved.state().wireName())
                    .description("State changes of migrations").register(registry).increment();
        }
        for (Map.Entry<MigrationState, Span> e : saved.steps().entrySet()) {
            Span before = previous.steps().get(e.getKey());
            if (e.getValue().isFinished() && (before == null || !before.isFinished())) {
                Duration d = e.getValue().duration().orElse(Duration.ZERO);
                Timer.builder("fleet_migration_step_duration").tag("state", e.getKey().wireName())
                        .description("How long each step of a migration took").register(registry).record(d);
            }
        }
        if (saved.finished(OperationKind.TRANSFER) && !previous.finished(OperationKind.TRANSFER)) {
            saved.archive().ifPresent(a -> bytesMoved.increment(a.size()));
        }
        if (saved.downtime().isPresent() && previous.downtime().isEmpty()) {
            downtime.record(saved.downtime().get().toMillis() / 1000.0);
        }
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }
}
