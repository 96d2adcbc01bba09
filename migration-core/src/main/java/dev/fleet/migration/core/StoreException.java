package dev.fleet.migration.core;

/** The migration store failed (I/O, disk full, corrupt row). */
public class StoreException extends MigrationException {
    private static final long serialVersionUID = 1L;

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreException(String message) {
        super(message);
    }

    @Override
    public Kind kind() {
        return Kind.FAILED;
    }
}
