package dev.fleet.migration.core;

import java.time.Duration;
import java.util.Objects;

/**
 * How the orchestrator behaves.
 *
 * @param schedulerInterval how often the scheduler ticks every active migration;
 *                          {@link Duration#ZERO} switches auto-advance off
 * @param maxActivePerNode  how many migrations past PENDING may involve one node at once;
 *                          more wait in PENDING
 * @param stepTimeout       how long one state may last before the migration fails
 * @param healthDeadline    how long the target has to become healthy during cutover
 */
public record OrchestratorSettings(Duration schedulerInterval, int maxActivePerNode, Duration stepTimeout,
                                   Duration healthDeadline) {
    public static final OrchestratorSettings DEFAULTS =
            new OrchestratorSettings(Duration.ofSeconds(1), 2, Duration.ofHours(6), Duration.ofSeconds(60));

    public OrchestratorSettings {
        Objects.requireNonNull(schedulerInterval, "schedulerInterval");
        Objects.requireNonNull(stepTimeout, "stepTimeout");
        Objects.requireNonNull(healthDeadline, "healthDeadline");
        if (schedulerInterval.isNegative()) {
            throw new InvalidInputException("schedulerInterval", schedulerInterval.toString(), "must not be negative");
        }
        if (maxActivePerNode < 1) {
            throw new InvalidInputException("maxActivePerNode", String.valueOf(maxActivePerNode), "must be at least 1");
        }
        if (stepTimeout.isNegative() || stepTimeout.isZero()) {
            throw new InvalidInputException("stepTimeout", stepTimeout.toString(), "must be positive");
        }
        if (healthDeadline.isNegative() || healthDeadline.isZero()) {
            throw new InvalidInputException("healthDeadline", healthDeadline.toString(), "must be positive");
        }
    }

    public OrchestratorSettings withSchedulerInterval(Duration interval) {
        return new OrchestratorSettings(interval, maxActivePerNode, stepTimeout, healthDeadline);
    }

    public OrchestratorSettings withMaxActivePerNode(int max) {
        return new OrchestratorSettings(schedulerInterval, max, stepTimeout, healthDeadline);
    }

    public OrchestratorSettings withStepTimeout(Duration timeout) {
        return new OrchestratorSettings(schedulerInterval, maxActivePerNode, timeout, healthDeadline);
    }

    public OrchestratorSettings withHealthDeadline(Duration deadline) {
        return new OrchestratorSettings(schedulerInterval, maxActivePerNode, stepTimeout, deadline);
    }
}
