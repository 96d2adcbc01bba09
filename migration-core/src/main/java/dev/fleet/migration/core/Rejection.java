package dev.fleet.migration.core;

import java.util.Objects;

/**
 * Why the state machine refused an event, as data: the migration, its state, the state the
 * event asked for (the same state for events that do not move it), and the reason.
 */
public record Rejection(MigrationId migration, MigrationState from, MigrationState to, String reason) {
    public Rejection {
        Objects.requireNonNull(migration, "migration");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(reason, "reason");
    }

    public String message() {
        return "migration " + migration + " cannot go from " + from + " to " + to + ": " + reason;
    }

    public IllegalTransitionException toException() {
        return new IllegalTransitionException(this);
    }
}
