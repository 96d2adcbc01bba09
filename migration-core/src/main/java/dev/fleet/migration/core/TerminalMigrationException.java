package dev.fleet.migration.core;

/** {@code advance} or {@code fail} was asked of a migration that already ended. */
public class TerminalMigrationException extends ConflictException {
    private static final long serialVersionUID = 1L;
    private final MigrationId migration;
    private final MigrationState state;

    public TerminalMigrationException(MigrationId migration, MigrationState state, String action) {
        super("migration " + migration + " is " + state + " and cannot " + action
                + "; " + state + " is terminal (start a new migration instead)");
        this.migration = migration;
        this.state = state;
    }

    public MigrationId migration() {
        return migration;
    }

    public MigrationState state() {
        return state;
    }
}
