package dev.fleet.migration.store.jdbc;

import dev.fleet.migration.core.StoreException;

/**
 * The database was written by a newer Fleet: its schema version is higher than this code knows.
 * Thrown when a store is opened; the database is left untouched.
 */
public final class SchemaTooNewException extends StoreException {
    private static final long serialVersionUID = 1L;
    private final String database;
    private final int found;
    private final int known;

    public SchemaTooNewException(String database, int found, int known) {
        super("the migration store at " + database + " has schema version " + found
                + ", but this Fleet knows schema versions up to " + known
                + ": it was written by a newer Fleet. Upgrade Fleet or point it at another database;"
                + " nothing was changed");
        this.database = database;
        this.found = found;
        this.known = known;
    }

    /** Where the database is (a file path or a JDBC URL without credentials). */
    public String database() {
        return database;
    }

    /** The database's schema version. */
    public int found() {
        return found;
    }

    /** The newest schema version this code knows. */
    public int known() {
        return known;
    }
}
