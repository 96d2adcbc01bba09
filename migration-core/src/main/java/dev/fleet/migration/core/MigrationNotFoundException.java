package dev.fleet.migration.core;

/** No migration has this id. */
public class MigrationNotFoundException extends MigrationException {
    private static final long serialVersionUID = 1L;
    private final MigrationId migration;

    public MigrationNotFoundException(MigrationId migration) {
        super("no migration with id " + migration);
        this.migration = migration;
    }

    public MigrationId migration() {
        return migration;
    }

    @Override
    public Kind kind() {
        return Kind.NOT_FOUND;
    }
}
