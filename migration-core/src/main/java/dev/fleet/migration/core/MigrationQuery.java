package dev.fleet.migration.core;

import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Which migrations to list, and which page of them: a filter (states, app) and a window
 * ({@code offset}, {@code limit}) over the matches in listing order, newest first (by creation
 * time, then id, as {@link dev.fleet.migration.core.spi.MigrationStore#list()} orders them).
 *
 * <pre>{@code
 * MigrationQuery.firstPage().withStates(MigrationQuery.ACTIVE).withLimit(1000)
 * }</pre>
 *
 * @param states the states to include; empty means every state
 * @param app    only migrations of this app, or empty for every app
 * @param offset how many matches to skip, 0 or more
 * @param limit  how many matches to return at most, 1 to {@link #MAX_LIMIT}
 */
public record MigrationQuery(Set<MigrationState> states, Optional<AppRef> app, int offset, int limit) {
    /** The page size when a caller names none: a screen of rows, small enough to answer quickly under load. */
    public static final int DEFAULT_LIMIT = 50;
    /** The largest page: enough for a screen of every active migration, small enough to answer quickly. */
    public static final int MAX_LIMIT = 1000;
    /** The states of a migration still in progress. */
    public static final Set<MigrationState> ACTIVE = Collections.unmodifiableSet(EnumSet.complementOf(
            EnumSet.of(MigrationState.DONE, MigrationState.FAILED)));
    /** The states of a migration that has ended. */
    public static final Set<MigrationState> TERMINAL = Collections.unmodifiableSet(
            EnumSet.of(MigrationState.DONE, MigrationState.FAILED));

    /**
     * @throws InvalidInputException for a negative offset or a limit outside 1..{@link #MAX_LIMIT}
     */
    public MigrationQuery {
        Objects.requireNonNull(states, "states");
        Objects.requireNonNull(app, "app");
        states = states.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(states));
        if (offset < 0) {
            throw new InvalidInputException("offset", String.valueOf(offset), "must be 0 or more");
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new InvalidInputException("limit", String.valueOf(limit), "must be between 1 and " + MAX_LIMIT);
        }
    }

    /** Every migration, the first {@link #DEFAULT_LIMIT}. */
    public static MigrationQuery firstPage() {
        return new MigrationQuery(Set.of(), Optional.empty(), 0, DEFAULT_LIMIT);
    }

    /** The same window over migrations in one of {@code states} (empty: every state). */
    public MigrationQuery withStates(Collection<MigrationState> states) {
        return new MigrationQuery(states.isEmpty() ? Set.of() : EnumSet.copyOf(states), app, offset, limit);
    }

    /** The same window over migrations of one app. */
    public MigrationQuery withApp(AppRef app) {
        return new MigrationQuery(states, Optional.of(app), offset, limit);
    }

    public MigrationQuery withOffset(int offset) {
        return new MigrationQuery(states, app, offset, limit);
    }

    public MigrationQuery withLimit(int limit) {
        return new MigrationQuery(states, app, offset, limit);
    }

    /** True when every state may match: no state filter. */
    public boolean everyState() {
        return states.isEmpty() || states.size() == MigrationState.values().length;
    }

    /** True when the filter is exactly "not DONE or FAILED" (stores have an index for it). */
    public boolean activeOnly() {
        return states.equals(ACTIVE);
    }

    /** True when {@code m} passes the filter (the window aside). */
    public boolean matches(Migration m) {
        return (everyState() || states.contains(m.state())) && app.map(a -> a.equals(m.app())).orElse(true);
    }
}
