package dev.fleet.migration.core;

/**
 * Something the migration needs (a node, the proxy's admin endpoint) could not be reached or
 * answered with a transient error. The orchestrator leaves the migration as it is and retries
 * on the next tick, until the step's deadline passes.
 */
public class UnavailableException extends MigrationException {
    private static final long serialVersionUID = 1L;

    public UnavailableException(String message) {
        super(message);
    }

    public UnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.UNAVAILABLE;
    }
}
