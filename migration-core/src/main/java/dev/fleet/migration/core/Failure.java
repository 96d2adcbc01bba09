package dev.fleet.migration.core;

import java.util.Objects;

/** Why a migration ended FAILED, the state it was in, and what compensation did. */
public record Failure(String reason, MigrationState failedIn, Compensation compensation) {
    public Failure {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(failedIn, "failedIn");
        Objects.requireNonNull(compensation, "compensation");
        if (failedIn.isTerminal()) {
            throw new IllegalArgumentException("failedIn must be a non-terminal state, was " + failedIn);
        }
    }
}
