package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.MigrationState;
import java.util.Arrays;
import java.util.List;

/**
 * The units of work a migration is made of, in the order they run, each owned by one actor
 * and belonging to one state. A state is finished when all of its operations are.
 */
public enum OperationKind {
    /** Source: write image and volumes into the archive; record the change fence. */
    SNAPSHOT(Actor.SOURCE, MigrationState.SNAPSHOTTING),
    /** Source: push the archive to the target, which verifies its sha256. */
    TRANSFER(Actor.SOURCE, MigrationState.TRANSFERRING),
    /** Target: verify and unpack the archive, create volumes and containers stopped. */
    RESTORE(Actor.TARGET, MigrationState.RESTORING),
    /**
     * Source: restart policy {@code no}, stop gracefully, and send the final delta (what changed
     * since the fence, deletions included) to the target.
     */
    STOP_SOURCE(Actor.SOURCE, MigrationState.CUTOVER),
    /** Target: apply the final delta, start, and pass the health gate before the deadline. */
    START_TARGET(Actor.TARGET, MigrationState.CUTOVER),
    /** Router: repoint the app's route from the source upstream to the target's, atomically. */
    SWITCH_ROUTE(Actor.ROUTER, MigrationState.CUTOVER),
    /** Source: rename the stopped container to {@code <name>.migrated-<short id>}; keep volumes. */
    RETIRE_SOURCE(Actor.SOURCE, MigrationState.CUTOVER);

    /** Who carries an operation out. */
    public enum Actor {
        SOURCE, TARGET, ROUTER
    }

    private final Actor actor;
    private final MigrationState state;

    OperationKind(Actor actor, MigrationState state) {
        this.actor = actor;
        this.state = state;
    }

    public Actor actor() {
        return actor;
    }

    public MigrationState state() {
        return state;
    }

    /** True for the operations a {@link NodeAgent} runs (not the router's). */
    public boolean isNodeOperation() {
        return actor != Actor.ROUTER;
    }

    /** The operations of one state, in the order they run (cutover with the route switched last). */
    public static List<OperationKind> of(MigrationState state) {
        return Arrays.stream(values()).filter(k -> k.state == state).toList();
    }

    /**
     * Cutover with the route switched first, for a proxy that holds requests until an upstream
     * answers: the switch, then the source's stop, the target's start, the source's retirement.
     */
    public static final List<OperationKind> CUTOVER_ROUTE_FIRST =
            List.of(SWITCH_ROUTE, STOP_SOURCE, START_TARGET, RETIRE_SOURCE);

    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    public static OperationKind fromWireName(String name) {
        for (OperationKind k : values()) {
            if (k.wireName().equals(name) || k.name().equals(name)) {
                return k;
            }
        }
        throw new dev.fleet.migration.core.InvalidInputException("operation", name,
                "must be one of snapshot, transfer, restore, stop-source, start-target, switch-route, retire-source");
    }
}
