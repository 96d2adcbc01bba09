package dev.fleet.migration.store.jdbc;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;

/**
 * The database schema as an ordered list of steps, applied at open. {@code schema_version}
 * holds one row per applied step; the database's version is the highest. A database newer than
 * {@link #CURRENT} is refused: this code would misread or damage what a newer one wrote.
 *
 * <p>Never edit a released step: append a new one. Every statement is portable SQL (SQLite and
 * PostgreSQL both have partial indexes and transactional DDL).
 */
final class Schema {

    /** One step: the version it brings the database to, what it is for, and its statements. */
    record Step(int version, String description, List<String> statements) {}

    static final List<Step> STEPS = List.of(
            new Step(1, "migrations, their history, one active migration per app", List.of(
                    // the record itself is the JSON column; the other columns exist to be queried
                    // and constrained, and are written from the same record in the same statement
                    "CREATE TABLE migrations ("
                            + " id VARCHAR(64) NOT NULL PRIMARY KEY,"
                            + " app VARCHAR(300) NOT NULL,"
                            + " state VARCHAR(16) NOT NULL,"
                            + " version BIGINT NOT NULL,"
                            + " epoch BIGINT NOT NULL,"
                            + " created_at_s BIGINT NOT NULL,"   // Instant.getEpochSecond
                            + " created_at_ns INTEGER NOT NULL," // Instant.getNano: order to the nanosecond
                            + " record TEXT NOT NULL)",
                    "CREATE UNIQUE INDEX migrations_one_active_per_app ON migrations (app)"
                            + " WHERE state NOT IN ('DONE', 'FAILED')",
                    "CREATE INDEX migrations_by_creation ON migrations (created_at_s, created_at_ns, id)",
                    "CREATE INDEX migrations_active_by_creation ON migrations (created_at_s, created_at_ns, id)"
                            + " WHERE state NOT IN ('DONE', 'FAILED')",
                    "CREATE TABLE migration_history ("
                            + " id VARCHAR(64) NOT NULL REFERENCES migrations (id),"
                            + " version BIGINT NOT NULL,"
                            + " app VARCHAR(300) NOT NULL,"
                            + " state VARCHAR(16) NOT NULL,"
                            + " epoch BIGINT NOT NULL,"
                            + " record TEXT NOT NULL,"
                            + " PRIMARY KEY (id, version))",
                    "CREATE INDEX migration_history_by_app_epoch ON migration_history (app, epoch)")),
            new Step(2, "covering indexes for listing pages, newest first, by state and by app", List.of(
                    // a page is an index walk alone: each index ends with (id, version), so the
                    // walk yields the page's ids and versions, stops at the limit, and COUNT(*)
                    // reads the same index, all without touching a record; the creation-order
                    // indexes of step 1 become these covering ones
                    "DROP INDEX migrations_by_creation",
                    "DROP INDEX migrations_active_by_creation",
                    "CREATE INDEX migrations_newest ON migrations (created_at_s, created_at_ns, id, version)",
                    // state too: SQLite counts an index covering only when it holds the columns of
                    // its own WHERE
                    "CREATE INDEX migrations_active_newest ON migrations (created_at_s, created_at_ns, id, version, state)"
                            + " WHERE state NOT IN ('DONE', 'FAILED')",
                    "CREATE INDEX migrations_by_state_newest"
                            + " ON migrations (state, created_at_s, created_at_ns, id, version)",
                    // an app has few migrations: its page sorts them; with a state as well it needs no sort
                    "CREATE INDEX migrations_by_app_state_newest"
                            + " ON migrations (app, state, created_at_s, created_at_ns, id, version)")),
            new Step(3, "leases: which control plane ticks each migration", List.of(
                    // no foreign key: a lease is coordination, not part of the record, and is
                    // deleted when its migration ends
                    "CREATE TABLE migration_leases ("
                            + " id VARCHAR(64) NOT NULL PRIMARY KEY,"
                            + " owner VARCHAR(200) NOT NULL,"
                            + " expires_at_ms BIGINT NOT NULL)")));

    /** The newest version this code knows. */
    static final int CURRENT = STEPS.get(STEPS.size() - 1).version();

    private Schema() {}

    /**
     * Reads the database's version and applies the missing steps, all in the caller's
     * transaction (so two processes opening one new file at once cannot both apply a step).
     *
     * @return the version the database had before
     * @throws SchemaTooNewException when the database is newer than this code
     */
    static int upgrade(Connection c, String where) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("CREATE TABLE IF NOT EXISTS schema_version ("
                    + " version INTEGER NOT NULL PRIMARY KEY,"
                    + " description VARCHAR(200) NOT NULL,"
                    + " applied_at VARCHAR(40) NOT NULL)");
            int found = 0;
            try (ResultSet rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
                if (rs.next()) {
                    found = rs.getInt(1);
                }
            }
            if (found > CURRENT) {
                throw new SchemaTooNewException(where, found, CURRENT);
            }
            for (Step step : STEPS) {
                if (step.version() <= found) {
                    continue;
                }
                for (String sql : step.statements()) {
                    s.executeUpdate(sql);
                }
                try (var insert = c.prepareStatement(
                        "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)")) {
                    insert.setInt(1, step.version());
                    insert.setString(2, step.description());
                    insert.setString(3, Instant.now().toString());
                    insert.executeUpdate();
                }
            }
            return found;
        }
    }
}
