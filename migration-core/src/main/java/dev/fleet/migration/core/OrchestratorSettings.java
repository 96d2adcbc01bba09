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
 * @param cutoverTimeout    how long the app may be down in cutover: from the source's stop until
 *                          the route points at the target; past it, the cutover rolls back
 */
public record OrchestratorSettings(Duration schedulerInterval, int maxActivePerNode, Duration stepTimeout,
                                   Duration healthDeadline, Duration cutoverTimeout) {
    public static final OrchestratorSettings DEFAULTS = new OrchestratorSettings(Duration.ofSeconds(1), 2,
            Duration.ofHours(6), Duration.ofSeconds(60), Duration.ofMinutes(3));

    /** Settings with the default cutover timeout (three minutes). */
    public OrchestratorSettings(Duration schedulerInterval, int maxActivePerNode, Duration stepTimeout,
                                Duration healthDeadline) {
        this(schedulerInterval, maxActivePerNode, stepTimeout, healthDeadline, Duration.ofMinutes(3));
    }

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
        Objects.requireNonNull(cutoverTimeout, "cutoverTimeout");
        if (cutoverTimeout.compareTo(healthDeadline) < 0) {
            throw new InvalidInputException("cutoverTimeout", cutoverTimeout.toString(),
                    "must be at least the health deadline (" + healthDeadline + ")");
        }
    }

    public OrchestratorSettings withSchedulerInterval(Duration interval) {
        return new OrchestratorSettings(interval, maxActivePerNode, stepTimeout, healthDeadline, cutoverTimeout);
    }

    public OrchestratorSettings withMaxActivePerNode(int max) {
        return new OrchestratorSettings(schedulerInterval, max, stepTimeout, healthDeadline, cutoverTimeout);
    }

    public OrchestratorSettings withStepTimeout(Duration timeout) {
        return new OrchestratorSettings(schedulerInterval, maxActivePerNode, timeout, healthDeadline, cutoverTimeout);
    }

    public OrchestratorSettings withHealthDeadline(Duration deadline) {
        return new OrchestratorSettings(schedulerInterval, maxActivePerNode, stepTimeout, deadline,
                cutoverTimeout.compareTo(deadline) < 0 ? deadline : cutoverTimeout);
    }

    public OrchestratorSettings withCutoverTimeout(Duration timeout) {
        return new OrchestratorSettings(schedulerInterval, maxActivePerNode, stepTimeout, healthDeadline, timeout);
    }
}
