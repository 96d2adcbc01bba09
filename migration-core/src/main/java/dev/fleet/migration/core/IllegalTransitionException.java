package dev.fleet.migration.core;

/**
 * The state machine refused an event. Carries the {@link Rejection}: the migration, the state
 * it is in, the state the event asked for, and why.
 */
public class IllegalTransitionException extends ConflictException {
    private static final long serialVersionUID = 1L;
    private final transient Rejection rejection;

    public IllegalTransitionException(Rejection rejection) {
        super(rejection.message());
        this.rejection = rejection;
    }

    public Rejection rejection() {
        return rejection;
    }
}
