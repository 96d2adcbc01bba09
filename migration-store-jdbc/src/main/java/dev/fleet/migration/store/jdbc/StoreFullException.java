package dev.fleet.migration.store.jdbc;

import dev.fleet.migration.core.StoreException;

/**
 * The migration store could not save because the disk (or, for SQLite, the database's size
 * limit) holding it is full: SQLITE_FULL, or PostgreSQL's {@code disk_full} (53100). Nothing of
 * the write was saved, the database is intact and reads go on. The message names the store and
 * the cause: {@code the migration store at /var/lib/fleet/migrations.db could not update migration
 * m-…: no space left on the device that holds it ([SQLITE_FULL] …)}.
 *
 * <p>Its kind is {@link Kind#UNAVAILABLE}: the same write succeeds once space was freed, so the
 * HTTP API answers 503 and the orchestrator keeps the migration where it was last saved.
 */
public final class StoreFullException extends StoreException {
    private static final long serialVersionUID = 1L;

    StoreFullException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.UNAVAILABLE;
    }
}
