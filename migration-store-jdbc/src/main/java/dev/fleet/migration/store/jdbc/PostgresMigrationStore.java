package dev.fleet.migration.store.jdbc;

import dev.fleet.migration.core.StoreException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The {@link dev.fleet.migration.core.spi.MigrationStore} for a replicated control plane: one
 * PostgreSQL database that every control-plane replica opens.
 *
 * <pre>{@code
 * PostgresMigrationStore store = PostgresMigrationStore.builder("jdbc:postgresql://db:5432/fleet")
 *         .user("fleet").password(secret).open();
 * Orchestrator orchestrator = Orchestrator.builder().store(store)
 *         .leases(store.leases(), "cp-1", Duration.ofSeconds(15)) ...
 * }</pre>
 *
 * <p>The same tables, statements and rules as {@link SqliteMigrationStore} (the database
 * enforces one active migration per app and the compare-and-set on {@code version}, so they
 * hold across replicas), in PostgreSQL's default READ COMMITTED isolation: an {@code UPDATE ...
 * WHERE version = ?} re-checks its condition on the row it locked, which is all the
 * compare-and-set needs. Replicas opening one new database at once apply the schema in turn
 * (an advisory lock). Serialization failures and deadlocks are retried.
 *
 * <p>Thread-safe; close it to release its connections.
 */
public final class PostgresMigrationStore extends JdbcMigrationStore {

    private PostgresMigrationStore(Builder b) {
        super(redacted(b.url), Dialect.POSTGRESQL, opener(b), b.maxConnections);
    }

    /** A builder for a store in the database at {@code url} ({@code jdbc:postgresql://host:port/db}). */
    public static Builder builder(String url) {
        return new Builder(url);
    }

    private static ConnectionPool.Opener opener(Builder b) {
        PGSimpleDataSource source = new PGSimpleDataSource();
        source.setURL(b.url);
        if (b.user != null) {
            source.setUser(b.user);
        }
        if (b.password != null) {
            source.setPassword(b.password);
        }
        source.setConnectTimeout((int) Math.max(1, b.connectTimeout.toSeconds()));
        source.setApplicationName("fleet-control-plane");
        return () -> {
            Connection c = source.getConnection();
            try {
                c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
                return c;
            } catch (SQLException | RuntimeException e) {
                c.close();
                throw e;
            }
        };
    }

    /** The URL without its query string, which may carry a password: what messages show. */
    static String redacted(String url) {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q);
    }

    /** Options for {@link PostgresMigrationStore}; {@link #open()} makes the store. */
    public static final class Builder {
        private final String url;
        private String user;
        private String password;
        private int maxConnections = 8;
        private Duration connectTimeout = Duration.ofSeconds(10);

        private Builder(String url) {
            Objects.requireNonNull(url, "url");
            if (!url.startsWith("jdbc:postgresql://")) {
                throw new IllegalArgumentException("a PostgreSQL store's url must start with jdbc:postgresql://,"
                        + " but was '" + redacted(url) + "'");
            }
            this.url = url;
        }

        public Builder user(String user) {
            this.user = user;
            return this;
        }

        public Builder password(String password) {
            this.password = password;
            return this;
        }

        /** At most this many connections. Default 8. */
        public Builder maxConnections(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxConnections must be at least 1, but was " + max);
            }
            this.maxConnections = max;
            return this;
        }

        /** How long opening a connection may take. Default 10 s. */
        public Builder connectTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("connectTimeout must be positive, but was " + timeout);
            }
            this.connectTimeout = timeout;
            return this;
        }

        /**
         * Connects and brings the schema up to date.
         *
         * @throws SchemaTooNewException when the database was written by a newer Fleet
         * @throws StoreException when the server cannot be reached or refuses the login
         */
        public PostgresMigrationStore open() {
            return new PostgresMigrationStore(this);
        }
    }
}
