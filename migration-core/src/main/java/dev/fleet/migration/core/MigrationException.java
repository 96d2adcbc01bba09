package dev.fleet.migration.core;

/**
 * The one unchecked exception family of the library. Every subclass carries data (the fields
 * its message is built from) and a {@link Kind} that adapters map to a status: HTTP maps
 * {@code INVALID_INPUT} to 400, {@code NOT_FOUND} to 404, {@code CONFLICT} to 409 and so on.
 */
public abstract class MigrationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What kind of failure this is, independent of which layer raised it. */
    public enum Kind {
        /** The caller sent something that can never be valid. Nothing was changed. */
        INVALID_INPUT,
        /** The named migration, node or operation does not exist. */
        NOT_FOUND,
        /** The request is valid but conflicts with the current state. Nothing was changed. */
        CONFLICT,
        /** A newer control plane owns this app: the caller's epoch is stale. */
        FENCED,
        /** A node could not be reached or answered with a transient error; retrying may work. */
        UNAVAILABLE,
        /** A node, transport, proxy or store reported a permanent failure. */
        FAILED
    }

    protected MigrationException(String message) {
        super(message);
    }

    protected MigrationException(String message, Throwable cause) {
        super(message, cause);
    }

    public abstract Kind kind();
}
