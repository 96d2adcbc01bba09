package dev.fleet.migration.core;

import static dev.fleet.migration.core.MigrationState.CUTOVER;
import static dev.fleet.migration.core.MigrationState.DONE;
import static dev.fleet.migration.core.MigrationState.FAILED;
import static dev.fleet.migration.core.MigrationState.PENDING;
import static dev.fleet.migration.core.MigrationState.RESTORING;
import static dev.fleet.migration.core.MigrationState.SNAPSHOTTING;
import static dev.fleet.migration.core.MigrationState.TRANSFERRING;

import io.vavr.control.Either;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The legal edges, as one table, and the one check every state change goes through. Nothing
 * skips a state; any non-terminal state may fail; DONE and FAILED absorb.
 */
public final class Transitions {
    private static final Map<MigrationState, Set<MigrationState>> EDGES;

    static {
        Map<MigrationState, Set<MigrationState>> edges = new EnumMap<>(MigrationState.class);
        edges.put(PENDING, EnumSet.of(SNAPSHOTTING, FAILED));
        edges.put(SNAPSHOTTING, EnumSet.of(TRANSFERRING, FAILED));
        edges.put(TRANSFERRING, EnumSet.of(RESTORING, FAILED));
        edges.put(RESTORING, EnumSet.of(CUTOVER, FAILED));
        edges.put(CUTOVER, EnumSet.of(DONE, FAILED));
        edges.put(DONE, EnumSet.noneOf(MigrationState.class));
        edges.put(FAILED, EnumSet.noneOf(MigrationState.class));
        edges.replaceAll((k, v) -> Collections.unmodifiableSet(v));
        EDGES = Collections.unmodifiableMap(edges);
    }

    private Transitions() {}

    /** The whole table: state to the states it may move to. */
    public static Map<MigrationState, Set<MigrationState>> table() {
        return EDGES;
    }

    public static boolean isLegal(MigrationState from, MigrationState to) {
        return EDGES.get(from).contains(to);
    }

    /** The one check: the edge, or a rejection naming the migration, from and to. */
    public static Either<Rejection, MigrationState> check(MigrationId migration, MigrationState from,
                                                         MigrationState to) {
        if (isLegal(from, to)) {
            return Either.right(to);
        }
        String why = from.isTerminal()
                ? from + " is terminal"
                : "not an edge of the state table (" + from + " may go to " + EDGES.get(from) + ")";
        return Either.left(new Rejection(migration, from, to, why));
    }
}
