package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.ActiveMigrationExistsException;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.MigrationPage;
import dev.fleet.migration.core.MigrationQuery;
import dev.fleet.migration.core.StaleVersionException;
import dev.fleet.migration.core.StoreException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where migrations are kept. Implementations: in memory (core), SQLite and PostgreSQL (JDBC).
 * Each passes {@code MigrationStoreContract} in core's test-jar.
 *
 * <p>Every save is a compare-and-set on {@link Migration#version()}, and every saved version
 * is kept as history. Safe for concurrent use, including by several control-plane processes
 * sharing one database. Errors: {@link StoreException} for I/O.
 */
public interface MigrationStore {

    /**
     * Saves a new migration (version 1). Atomic with the check that its app has no other active
     * migration. Called by {@code create}.
     *
     * @throws ActiveMigrationExistsException when another migration of the app is not terminal
     * @throws dev.fleet.migration.core.ConflictException when the id is taken
     */
    void insert(Migration migration);

    /**
     * Replaces the stored record if it still has {@code next.version() - 1}, and appends
     * {@code next} to the history. Called after every accepted event.
     *
     * @throws StaleVersionException when the stored version differs (someone else saved first)
     * @throws dev.fleet.migration.core.MigrationNotFoundException when there is no such migration
     */
    void update(Migration next);

    /** The current record. */
    Optional<Migration> find(MigrationId id);

    /**
     * Every migration, newest first (by creation time, then id). Reads the whole store: for a
     * screen or an API answer use {@link #page}.
     */
    List<Migration> list();

    /**
     * One page of the migrations that pass the query's filter, in {@link #list()}'s order, with
     * the number of matches over every page. Called by the control plane's listing (the API,
     * the Control Panel, {@code fleet list}) on every request, concurrently: an implementation
     * over many migrations answers from an index, reading only the page's records and counting
     * without decoding them.
     *
     * <p>The default filters {@link #list()}, which is correct and reads everything; the
     * in-memory and JDBC stores override it.
     *
     * @throws StoreException for I/O
     */
    default MigrationPage page(MigrationQuery query) {
        List<Migration> matches = list().stream().filter(query::matches).toList();
        int from = (int) Math.min(matches.size(), (long) query.offset());
        int to = (int) Math.min(matches.size(), (long) from + query.limit());
        return new MigrationPage(matches.subList(from, to), matches.size(), query);
    }

    /**
     * A number that is different after any insert or update of any migration, whoever made it
     * (this process, or another one writing the same database), read without touching a
     * migration's record; or empty when the store cannot tell that cheaply. A reader may keep
     * what it derived from the store (the listing keeps whole answers) for as long as the
     * stamp it read <em>before</em> reading the store is still the current one.
     *
     * <p>The default is empty: nothing may be kept.
     *
     * @throws StoreException for I/O
     */
    default OptionalLong changeStamp() {
        return OptionalLong.empty();
    }

    /** The migrations not yet DONE or FAILED, oldest first. */
    List<Migration> active();

    /** The highest epoch any migration of this app ever had, or 0. */
    long maxEpoch(AppRef app);

    /** Every saved version of one migration, oldest first; empty when unknown. */
    List<Migration> history(MigrationId id);
}
