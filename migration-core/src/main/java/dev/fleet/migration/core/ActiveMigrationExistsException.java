package dev.fleet.migration.core;

/** An app already has a migration that has not reached DONE or FAILED. */
public class ActiveMigrationExistsException extends ConflictException {
    private static final long serialVersionUID = 1L;
    private final AppRef app;
    private final MigrationId existing;

    public ActiveMigrationExistsException(AppRef app, MigrationId existing) {
        super("app '" + app + "' already has an active migration " + existing
                + "; wait for it to end or abort it first");
        this.app = app;
        this.existing = existing;
    }

    public AppRef app() {
        return app;
    }

    public MigrationId existing() {
        return existing;
    }
}
