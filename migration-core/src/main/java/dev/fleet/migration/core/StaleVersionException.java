package dev.fleet.migration.core;

/** A compare-and-set save lost: someone else saved the migration since it was read. */
public class StaleVersionException extends ConflictException {
    private static final long serialVersionUID = 1L;
    private final MigrationId migration;
    private final long expected;
    private final long actual;

    public StaleVersionException(MigrationId migration, long expected, long actual) {
        super("migration " + migration + " was saved concurrently: expected version " + expected
                + " but the store holds version " + actual);
        this.migration = migration;
        this.expected = expected;
        this.actual = actual;
    }

    public MigrationId migration() {
        return migration;
    }

    public long expected() {
        return expected;
    }

    public long actual() {
        return actual;
    }
}
