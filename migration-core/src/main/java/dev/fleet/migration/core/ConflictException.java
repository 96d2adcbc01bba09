package dev.fleet.migration.core;

/** A valid request that the current state does not allow. Nothing was changed. */
public class ConflictException extends MigrationException {
    private static final long serialVersionUID = 1L;

    public ConflictException(String message) {
        super(message);
    }

    @Override
    public Kind kind() {
        return Kind.CONFLICT;
    }
}
