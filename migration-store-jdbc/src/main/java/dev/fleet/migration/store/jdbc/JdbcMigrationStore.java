package dev.fleet.migration.store.jdbc;

import dev.fleet.migration.core.ActiveMigrationExistsException;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ConflictException;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.MigrationNotFoundException;
import dev.fleet.migration.core.MigrationPage;
import dev.fleet.migration.core.MigrationQuery;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.StaleVersionException;
import dev.fleet.migration.core.StoreException;
import dev.fleet.migration.core.spi.MigrationStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link MigrationStore} on JDBC with portable SQL; the database-specific bits live in
 * {@link Dialect} and in the subclass that opens connections ({@link SqliteMigrationStore}).
 *
 * <p>Two tables: {@code migrations} holds each migration's current record, {@code
 * migration_history} every saved version, unique on (id, version). The database itself enforces
 * the rules, so they hold across processes sharing it:
 * <ul>
 *   <li>one active migration per app: a partial unique index on {@code app} over the rows whose
 *       state is not DONE or FAILED, mapped to {@link ActiveMigrationExistsException};</li>
 *   <li>compare-and-set: {@code UPDATE ... WHERE id = ? AND version = ?}; no row updated means
 *       {@link StaleVersionException} (with the stored version) or
 *       {@link MigrationNotFoundException};</li>
 *   <li>a record and its history row are written in one transaction.</li>
 * </ul>
 * Database errors (disk full, I/O, a corrupt file) become {@link StoreException} carrying the
 * cause's message; a full disk becomes {@link StoreFullException}, which says so. Thread-safe.
 * Close it to release the database.
 */
public abstract sealed class JdbcMigrationStore implements MigrationStore, AutoCloseable
        permits SqliteMigrationStore, PostgresMigrationStore {

    /** Attempts for a transaction that fails transiently (lock contention past the timeout). */
    private static final int ATTEMPTS = 5;

    private static final String COLUMNS = "id, app, state, version, epoch, created_at_s, created_at_ns, record";
    private static final String INSERT = "INSERT INTO migrations (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String INSERT_HISTORY =
            "INSERT INTO migration_history (id, version, app, state, epoch, record) VALUES (?, ?, ?, ?, ?, ?)";
    private static final String UPDATE = "UPDATE migrations SET state = ?, version = ?, epoch = ?, record = ?"
            + " WHERE id = ? AND version = ? AND app = ?";
    /** Decoded records kept for the listing: a few screens of the newest and every active one, typically. */
    private static final int DECODED_CACHE = 4096;
    /** Records read by one statement: under every SQLite's limit of bound parameters (999 before 3.32). */
    private static final int RECORDS_PER_READ = 500;
    private static final String ACTIVE_WHERE = "state NOT IN ('DONE', 'FAILED')";

    private final String where;
    private final Dialect dialect;
    private final ConnectionPool pool;
    private final ConnectionPool.Opener opener;
    private final ReentrantLock writeLock;
    /**
     * The connection that reads {@link #changeStamp()}, apart from the pool because the stamp
     * is only comparable on one connection, and because it must never write (its own commits
     * would not move it). Guarded by {@code stampLock}; opened on first use.
     */
    private final ReentrantLock stampLock = new ReentrantLock();
    private Connection stampConnection;
    private PreparedStatement stampStatement;
    /** Inserts and updates this instance has committed: its own writes move the stamp at once. */
    private final java.util.concurrent.atomic.AtomicLong writes = new java.util.concurrent.atomic.AtomicLong();
    /** The last {@code PRAGMA data_version} read, and when (nanoTime); refreshed by one reader at a time. */
    private volatile long dataVersion;
    private volatile long dataVersionRead = System.nanoTime() - DATA_VERSION_FRESH_NANOS - 1;
    /** How long a read of other processes' commits is reused: bounds how late another process's write shows. */
    static final long DATA_VERSION_FRESH_NANOS = 20_000_000L;
    /**
     * The record the listing last decoded for each id; used only when the page's walk finds the
     * same version. A saved version never changes (every save is a compare-and-set that raises
     * it), so a used entry is never stale, whoever writes the database. Lock-free; emptied when
     * it outgrows {@link #DECODED_CACHE}, so a long listing history cannot grow it.
     */
    private final ConcurrentHashMap<String, Migration> decoded = new ConcurrentHashMap<>();

    /**
     * Opens the store and brings the schema up to date.
     *
     * @param where what to name the database in messages (a path, or a URL without credentials)
     * @throws SchemaTooNewException when the database was written by newer code
     * @throws StoreException when the database cannot be opened or upgraded
     */
    JdbcMigrationStore(String where, Dialect dialect, ConnectionPool.Opener opener, int maxConnections) {
        this.where = where;
        this.dialect = dialect;
        this.pool = new ConnectionPool(opener, maxConnections);
        this.opener = opener;
        this.writeLock = dialect.serializeWritesInProcess() ? new ReentrantLock(true) : null;
        try {
            write("open the database", c -> {
                dialect.lockSchema(c); // two processes opening one new database must not both apply a step
                return Schema.upgrade(c, where);
            });
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    @Override
    public void insert(Migration m) {
        if (m.version() != 1) {
            throw new IllegalArgumentException("a new migration has version 1, not " + m.version());
        }
        String json = MigrationJson.write(m);
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                write("insert migration " + m.id(), c -> {
                    try (PreparedStatement ps = c.prepareStatement(INSERT)) {
                        ps.setString(1, m.id().value());
                        ps.setString(2, m.app().id());
                        ps.setString(3, m.state().name());
                        ps.setLong(4, m.version());
                        ps.setLong(5, m.epoch());
                        ps.setLong(6, m.createdAt().getEpochSecond());
                        ps.setInt(7, m.createdAt().getNano());
                        ps.setString(8, json);
                        executeGuarded(ps);
                    }
                    insertHistory(c, m, json);
                    return null;
                });
                writes.incrementAndGet(); // after the commit: a stamp read before it may see the old page
                return;
            } catch (UniqueViolation v) {
                // rolled back; find out which rule it broke (PostgreSQL allows no query in a
                // failed transaction, so this reads afresh)
                if (exists(m.id())) {
                    throw new ConflictException("a migration with id " + m.id() + " already exists");
                }
                Optional<MigrationId> other = activeOf(m.app());
                if (other.isPresent()) {
                    throw new ActiveMigrationExistsException(m.app(), other.get());
                }
                // the conflicting migration ended in between: try again
            }
        }
        throw new StoreException("the migration store at " + where + " could not insert migration " + m.id()
                + ": it kept conflicting with concurrent changes");
    }

    @Override
    public void update(Migration next) {
        long expected = next.version() - 1;
        String json = MigrationJson.write(next);
        Long outcome;
        try {
            outcome = write("update migration " + next.id(), c -> {
                try (PreparedStatement ps = c.prepareStatement(UPDATE)) {
                    ps.setString(1, next.state().name());
                    ps.setLong(2, next.version());
                    ps.setLong(3, next.epoch());
                    ps.setString(4, json);
                    ps.setString(5, next.id().value());
                    ps.setLong(6, expected);
                    ps.setString(7, next.app().id());
                    if (executeGuarded(ps) == 1) {
                        insertHistory(c, next, json);
                        return null;
                    }
                }
                // nothing changed; this transaction already holds the write, so the reason read here is current
                try (PreparedStatement ps = c.prepareStatement("SELECT version, app FROM migrations WHERE id = ?")) {
                    ps.setString(1, next.id().value());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            return -1L;
                        }
                        long actual = rs.getLong(1);
                        if (actual == expected) {
                            throw new IllegalArgumentException("migration " + next.id() + " belongs to app '"
                                    + rs.getString(2) + "'; an update cannot move it to app '" + next.app() + "'");
                        }
                        return actual;
                    }
                }
            });
        } catch (UniqueViolation v) {
            // only the one-active-per-app index can refuse an update (a terminal record made active)
            throw new ActiveMigrationExistsException(next.app(),
                    activeOf(next.app()).orElseThrow(() -> storeFailure("update migration " + next.id(), v.cause)));
        }
        if (outcome == null) {
            writes.incrementAndGet();
            return;
        }
        if (outcome < 0) {
            throw new MigrationNotFoundException(next.id());
        }
        throw new StaleVersionException(next.id(), expected, outcome);
    }

    @Override
    public Optional<Migration> find(MigrationId id) {
        List<Migration> found = query("find migration " + id, "SELECT id, record FROM migrations WHERE id = ?",
                id.value());
        return found.stream().findFirst();
    }

    @Override
    public List<Migration> list() {
        return query("list migrations", "SELECT id, record FROM migrations"
                + " ORDER BY created_at_s DESC, created_at_ns DESC, " + dialect.orderedId() + " DESC");
    }

    /**
     * Two short statements on one connection, then the records not yet decoded. The page's ids
     * and versions come from a walk of a covering index alone (newest first, the partial active
     * one, by state, or by app and state; see {@link Schema}), cut with LIMIT/OFFSET there, and
     * the count reads the same kind of index: neither touches a row. Then only the records not
     * in {@link #decoded} are read, by primary key, and decoded.
     */
    @Override
    public MigrationPage page(MigrationQuery query) {
        List<String> args = new ArrayList<>();
        String select = pageSql(query, args, dialect);
        List<String> countArgs = new ArrayList<>();
        String count = countSql(query, countArgs);
        return read("list migrations", c -> {
            List<String> ids = new ArrayList<>(Math.min(query.limit(), 128));
            Map<String, Migration> found = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement(select)) {
                int i = bind(ps, args);
                ps.setInt(i, query.limit());
                ps.setInt(i + 1, query.offset());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String id = rs.getString(1);
                        ids.add(id);
                        Migration known = decoded.get(id);
                        if (known != null && known.version() == rs.getLong(2)) {
                            found.put(id, known);
                        }
                    }
                }
            }
            long total;
            try (PreparedStatement ps = c.prepareStatement(count)) {
                bind(ps, countArgs);
                try (ResultSet rs = ps.executeQuery()) {
                    total = rs.next() ? rs.getLong(1) : 0;
                }
            }
            List<String> missing = ids.stream().filter(id -> !found.containsKey(id)).toList();
            // a record saved since the walk reads as its newer version: never older than the walk saw
            for (int from = 0; from < missing.size(); from += RECORDS_PER_READ) {
                List<String> chunk = missing.subList(from, Math.min(missing.size(), from + RECORDS_PER_READ));
                String in = String.join(", ", java.util.Collections.nCopies(chunk.size(), "?"));
                try (PreparedStatement ps = c.prepareStatement("SELECT id, record FROM migrations WHERE id IN (" + in
                        + ")")) {
                    bind(ps, chunk);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            Migration m = decode(rs.getString(1), rs.getString(2));
                            if (decoded.size() >= DECODED_CACHE) {
                                decoded.clear(); // rare: more distinct migrations listed than kept
                            }
                            decoded.put(m.id().value(), m);
                            found.put(m.id().value(), m);
                        }
                    }
                }
            }
            List<Migration> out = new ArrayList<>(ids.size());
            for (String id : ids) {
                Migration m = found.get(id);
                if (m != null) {
                    out.add(m);
                }
            }
            return new MigrationPage(out, total, query);
        });
    }

    private static final String NEWEST_FIRST = "created_at_s DESC, created_at_ns DESC, %s DESC";

    /** The page statement (ids and versions); its arguments are {@code args}, then the limit and the offset. */
    static String pageSql(MigrationQuery query, List<String> args, Dialect dialect) {
        return "SELECT id, version FROM migrations" + where(query, args, true) + " ORDER BY "
                + String.format(NEWEST_FIRST, dialect.orderedId()) + " LIMIT ? OFFSET ?";
    }

    /** The count statement. */
    static String countSql(MigrationQuery query, List<String> args) {
        return "SELECT COUNT(*) FROM migrations" + where(query, args, false);
    }

    /**
     * The WHERE clause (with a leading space, or empty) and its arguments. The active filter is
     * written as the partial index's own predicate for the page, so the planner walks that
     * index in order; the count lists the five active states instead, which the state index
     * answers with five short searches.
     */
    private static String where(MigrationQuery query, List<String> args, boolean page) {
        List<String> terms = new ArrayList<>();
        if (query.activeOnly() && page) {
            terms.add(ACTIVE_WHERE);
        } else if (!query.everyState()) {
            StringBuilder in = new StringBuilder("state IN (");
            boolean first = true;
            for (MigrationState st : query.states()) {
                in.append(first ? "?" : ", ?");
                first = false;
                args.add(st.name());
            }
            terms.add(in.append(')').toString());
        }
        query.app().ifPresent(a -> {
            terms.add("app = ?");
            args.add(a.id());
        });
        return terms.isEmpty() ? "" : " WHERE " + String.join(" AND ", terms);
    }

    private static int bind(PreparedStatement ps, List<String> args) throws SQLException {
        for (int i = 0; i < args.size(); i++) {
            ps.setString(i + 1, args.get(i));
        }
        return args.size() + 1;
    }

    @Override
    public List<Migration> active() {
        return query("list active migrations", "SELECT id, record FROM migrations WHERE " + ACTIVE_WHERE
                + " ORDER BY created_at_s, created_at_ns, " + dialect.orderedId());
    }

    @Override
    public long maxEpoch(AppRef app) {
        // from the history: "ever had", even if a record's epoch could go down again
        return read("read the epoch of app " + app, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT MAX(epoch) FROM migration_history WHERE app = ?")) {
                ps.setString(1, app.id());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0L; // MAX of nothing is NULL, which getLong reads as 0
                }
            }
        });
    }

    @Override
    public List<Migration> history(MigrationId id) {
        return query("read the history of migration " + id,
                "SELECT id, record FROM migration_history WHERE id = ? ORDER BY version", id.value());
    }

    /** Closes every connection; idempotent. Calls after close fail with {@link StoreException}. */
    @Override
    public void close() {
        pool.close();
        stampLock.lock();
        try {
            closeStamp();
        } finally {
            stampLock.unlock();
        }
    }

    /**
     * SQLite: this instance's own committed writes, which move the stamp at once, beside
     * {@code PRAGMA data_version} read on a connection of the store's own that never writes (it
     * moves on every commit by any other connection, so other processes' writes count too). That
     * read is reused for {@value #DATA_VERSION_FRESH_NANOS} ns and refreshed by one caller at a
     * time without making the others wait (200 listing threads queueing on one connection made
     * the tail latency worse than reading the page): another process's write shows within about
     * 20 ms. Empty on PostgreSQL, when closed, and when the read fails (the caller then reads the
     * store itself and meets the failure there, with its message).
     */
    @Override
    public OptionalLong changeStamp() {
        String sql = dialect.changeStampSql();
        if (sql == null || pool.isClosed()) {
            return OptionalLong.empty();
        }
        long own = writes.get(); // before the data version: a write committed since is then caught next time
        if (System.nanoTime() - dataVersionRead > DATA_VERSION_FRESH_NANOS && stampLock.tryLock()) {
            try {
                long started = System.nanoTime();
                if (stampStatement == null) {
                    stampConnection = opener.open();
                    stampStatement = stampConnection.prepareStatement(sql);
                }
                try (ResultSet rs = stampStatement.executeQuery()) {
                    if (!rs.next()) {
                        return OptionalLong.empty();
                    }
                    dataVersion = rs.getLong(1);
                    dataVersionRead = started;
                }
            } catch (SQLException e) {
                closeStamp(); // opened afresh next time
                return OptionalLong.empty();
            } finally {
                stampLock.unlock();
            }
        }
        return OptionalLong.of((own << 32) ^ (dataVersion & 0xffff_ffffL));
    }

    private void closeStamp() {
        try {
            if (stampConnection != null) {
                stampConnection.close();
            }
        } catch (SQLException ignored) {
            // gone either way
        } finally {
            stampConnection = null;
            stampStatement = null;
        }
    }

    /**
     * The leases that let several control planes share this store, each migration ticked by one
     * of them at a time (pass them to {@code Orchestrator.Builder.leases}). Kept in the same
     * database, table {@code migration_leases}.
     */
    public dev.fleet.migration.core.spi.MigrationLeases leases() {
        return new JdbcMigrationLeases(this);
    }

    /** The database this store uses, as messages name it. */
    public String location() {
        return where;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + where + "]";
    }

    // --- plumbing -------------------------------------------------------------------------------

    @FunctionalInterface
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** Carries a unique-index violation out of the (rolled back) transaction. */
    private static final class UniqueViolation extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient SQLException cause;

        UniqueViolation(SQLException cause) {
            super(cause.getMessage(), null, false, false);
            this.cause = cause;
        }
    }

    private int executeGuarded(PreparedStatement ps) throws SQLException {
        try {
            return ps.executeUpdate();
        } catch (SQLException e) {
            if (dialect.isUniqueViolation(e)) {
                throw new UniqueViolation(e);
            }
            throw e;
        }
    }

    private static void insertHistory(Connection c, Migration m, String json) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(INSERT_HISTORY)) {
            ps.setString(1, m.id().value());
            ps.setLong(2, m.version());
            ps.setString(3, m.app().id());
            ps.setString(4, m.state().name());
            ps.setLong(5, m.epoch());
            ps.setString(6, json);
            ps.executeUpdate();
        }
    }

    private boolean exists(MigrationId id) {
        return read("find migration " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM migrations WHERE id = ?")) {
                ps.setString(1, id.value());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            }
        });
    }

    private Optional<MigrationId> activeOf(AppRef app) {
        return read("find the active migration of app " + app, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id FROM migrations WHERE app = ? AND " + ACTIVE_WHERE)) {
                ps.setString(1, app.id());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(MigrationId.of(rs.getString(1))) : Optional.empty();
                }
            }
        });
    }

    private List<Migration> query(String what, String sql, String... args) {
        return read(what, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setString(i + 1, args[i]);
                }
                List<Migration> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(decode(rs.getString(1), rs.getString(2)));
                    }
                }
                return out;
            }
        });
    }

    private Migration decode(String id, String json) {
        Migration m;
        try {
            m = MigrationJson.read(json);
        } catch (RuntimeException e) {
            throw new StoreException("the migration store at " + where + " holds an unreadable record for"
                    + " migration " + id + ": " + e.getMessage(), e);
        }
        if (!m.id().value().equals(id)) {
            throw new StoreException("the migration store at " + where + " holds the record of migration "
                    + m.id() + " in the row of migration " + id);
        }
        return m;
    }

    /** Runs read-only work on one connection in autocommit mode (a single statement is consistent). */
    <T> T read(String what, Work<T> work) {
        return withRetries(what, () -> run(work, false));
    }

    /** Runs work in one transaction: committed if it returns, rolled back if it throws. */
    <T> T write(String what, Work<T> work) {
        if (writeLock != null) {
            writeLock.lock();
        }
        try {
            return withRetries(what, () -> run(work, true));
        } finally {
            if (writeLock != null) {
                writeLock.unlock();
            }
        }
    }

    private interface Attempt<T> {
        T run() throws SQLException;
    }

    private <T> T withRetries(String what, Attempt<T> attempt) {
        for (int i = 1; ; i++) {
            try {
                return attempt.run();
            } catch (SQLException e) {
                if (i >= ATTEMPTS || !dialect.isTransient(e)) {
                    throw storeFailure(what, e);
                }
                backOff(what, i);
            }
        }
    }

    private <T> T run(Work<T> work, boolean transaction) throws SQLException {
        Connection c = borrow();
        boolean broken = false;
        try {
            if (!transaction) {
                return work.run(c);
            }
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException | Error e) {
                try {
                    c.rollback();
                } catch (SQLException r) {
                    e.addSuppressed(r);
                    broken = true;
                }
                throw e;
            } finally {
                try {
                    c.setAutoCommit(true);
                } catch (SQLException e) {
                    broken = true; // a connection in an unknown transaction state is not reused
                }
            }
        } finally {
            pool.release(c, broken);
        }
    }

    private Connection borrow() throws SQLException {
        if (pool.isClosed()) {
            throw closed();
        }
        try {
            return pool.borrow();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while waiting for a connection to the migration store at " + where);
        } catch (IllegalStateException e) {
            throw closed();
        }
    }

    private StoreException closed() {
        return new StoreException("the migration store at " + where + " is closed");
    }

    private void backOff(String what, int attempt) {
        try {
            Thread.sleep(attempt * 20L + ThreadLocalRandom.current().nextInt(20));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while retrying to " + what + " in the migration store at " + where);
        }
    }

    private StoreException storeFailure(String what, SQLException e) {
        if (dialect.isDiskFull(e)) {
            return new StoreFullException("the migration store at " + where + " could not " + what
                    + ": no space left on the device that holds it (" + e.getMessage() + "); nothing of this"
                    + " was saved, and the same write succeeds once space is freed there", e);
        }
        return new StoreException("the migration store at " + where + " could not " + what + ": "
                + e.getMessage(), e);
    }
}
