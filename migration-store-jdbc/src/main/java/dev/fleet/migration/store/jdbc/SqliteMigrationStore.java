package dev.fleet.migration.store.jdbc;

import dev.fleet.migration.core.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The embedded default {@link dev.fleet.migration.core.spi.MigrationStore}: one SQLite file.
 *
 * <pre>{@code
 * try (SqliteMigrationStore store = SqliteMigrationStore.open(Path.of("/var/lib/fleet/migrations.db"))) {
 *     Orchestrator orchestrator = ... store ...;
 * }
 * }</pre>
 *
 * <p>Every connection runs in WAL mode (readers never wait for the writer), with foreign keys
 * on and {@code synchronous=FULL} by default, so a save that returned survives a power cut.
 * SQLite has one writer at a time: writers of this process queue on a lock, and writers of
 * other processes sharing the file wait up to the busy timeout (10 s by default) for the file
 * lock. Several processes may share one file on a local disk; WAL does not work over a network
 * file system.
 *
 * <p>Opening creates the file (and its directory) when missing and applies the schema; a file
 * written by a newer Fleet is refused with {@link SchemaTooNewException}. Thread-safe.
 */
public final class SqliteMigrationStore extends JdbcMigrationStore {

    /** How hard a commit presses the data to disk ({@code PRAGMA synchronous}). */
    public enum Synchronous {
        /** fsync on every commit: a returned save survives a power cut. The default. */
        FULL,
        /**
         * fsync at checkpoints only: a returned save survives a crash of the process but the
         * last few may be lost on a power cut. Much faster on slow disks.
         */
        NORMAL
    }

    private final Path file;

    private SqliteMigrationStore(Builder b, Path file) {
        super(file.toString(), Dialect.SQLITE, opener(b, file), b.maxConnections);
        this.file = file;
    }

    /** Opens (creating when missing) the store in {@code file} with the defaults. */
    public static SqliteMigrationStore open(Path file) {
        return builder(file).open();
    }

    /** A builder for a store in {@code file}. */
    public static Builder builder(Path file) {
        return new Builder(file);
    }

    /** The database file. */
    public Path file() {
        return file;
    }

    private static ConnectionPool.Opener opener(Builder b, Path file) {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setBusyTimeout((int) Math.min(Integer.MAX_VALUE, b.busyTimeout.toMillis()));
        config.enforceForeignKeys(true);
        config.setSynchronous(b.synchronous == Synchronous.FULL
                ? SQLiteConfig.SynchronousMode.FULL : SQLiteConfig.SynchronousMode.NORMAL);
        SQLiteDataSource source = new SQLiteDataSource(config);
        source.setUrl("jdbc:sqlite:" + file);
        return () -> {
            Connection c = source.getConnection();
            try {
                if (b.onConnect != null) {
                    b.onConnect.accept(c);
                }
                return c;
            } catch (SQLException | RuntimeException e) {
                c.close();
                throw e;
            }
        };
    }

    /** Options for {@link SqliteMigrationStore}; {@link #open()} makes the store. */
    public static final class Builder {
        private final Path file;
        private Duration busyTimeout = Duration.ofSeconds(10);
        private int maxConnections = 4;
        private Synchronous synchronous = Synchronous.FULL;
        private ConnectionSetup onConnect;

        private Builder(Path file) {
            this.file = Objects.requireNonNull(file, "file");
        }

        /** How long a write waits for another process's write to finish. Default 10 s. */
        public Builder busyTimeout(Duration timeout) {
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("busyTimeout must not be negative, but was " + timeout);
            }
            this.busyTimeout = timeout;
            return this;
        }

        /** At most this many connections (concurrent readers). Default 4. */
        public Builder maxConnections(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxConnections must be at least 1, but was " + max);
            }
            this.maxConnections = max;
            return this;
        }

        /** Durability of a commit. Default {@link Synchronous#FULL}. */
        public Builder synchronous(Synchronous synchronous) {
            this.synchronous = Objects.requireNonNull(synchronous, "synchronous");
            return this;
        }

        /** Runs on every new connection after the store's own settings (tests: size limits). */
        Builder onConnect(ConnectionSetup setup) {
            this.onConnect = setup;
            return this;
        }

        /**
         * Opens the store, creating the file and its directory when missing.
         *
         * @throws SchemaTooNewException when the file was written by a newer Fleet
         * @throws StoreException when the file cannot be created, is not a database, or fails
         */
        public SqliteMigrationStore open() {
            Path abs = file.toAbsolutePath().normalize();
            try {
                if (abs.getParent() != null) {
                    Files.createDirectories(abs.getParent());
                }
            } catch (IOException e) {
                throw new StoreException("cannot create the directory of the migration store at " + abs + ": "
                        + e, e);
            }
            return new SqliteMigrationStore(this, abs);
        }
    }

    /** Extra setup for each new connection. */
    @FunctionalInterface
    interface ConnectionSetup {
        void accept(Connection c) throws SQLException;
    }
}
