package dev.fleet.migration.store.jdbc;

import java.sql.SQLException;
import java.util.Locale;

/**
 * The few places where SQLite and PostgreSQL differ, kept in one switch so every statement
 * elsewhere is portable SQL: {@link #SQLITE} for {@link SqliteMigrationStore}, {@link #POSTGRESQL}
 * for {@link PostgresMigrationStore}.
 */
enum Dialect {
    SQLITE {
        @Override
        boolean isUniqueViolation(SQLException e) {
            // xerial reports SQLITE_CONSTRAINT (19) with the extended code in the message
            String m = String.valueOf(e.getMessage()).toUpperCase(Locale.ROOT);
            return m.contains("SQLITE_CONSTRAINT_UNIQUE") || m.contains("SQLITE_CONSTRAINT_PRIMARYKEY")
                    || (e.getErrorCode() == 19 && m.contains("UNIQUE CONSTRAINT FAILED"));
        }

        @Override
        boolean isTransient(SQLException e) {
            // BUSY/LOCKED outlive busy_timeout only under heavy cross-process contention;
            // BUSY_SNAPSHOT needs a fresh transaction, which a retry gives it
            int code = e.getErrorCode() & 0xff;
            String m = String.valueOf(e.getMessage());
            return code == 5 || code == 6 || m.contains("SQLITE_BUSY") || m.contains("SQLITE_LOCKED");
        }

        @Override
        boolean isDiskFull(SQLException e) {
            // SQLITE_FULL (13): the VFS maps a write's ENOSPC to it, and max_page_count gives it too
            String m = String.valueOf(e.getMessage());
            return (e.getErrorCode() & 0xff) == 13 || m.contains("SQLITE_FULL")
                    || m.toLowerCase(Locale.ROOT).contains("no space left on device");
        }

        @Override
        String orderedId() {
            return "id"; // BINARY collation: byte order, which is String order for ASCII ids
        }

        @Override
        boolean serializeWritesInProcess() {
            return true;
        }

        @Override
        String changeStampSql() {
            // per connection: moves whenever another connection (of any process) has committed
            return "PRAGMA data_version";
        }
    },

    POSTGRESQL {
        @Override
        boolean isUniqueViolation(SQLException e) {
            return "23505".equals(e.getSQLState());
        }

        @Override
        boolean isTransient(SQLException e) {
            return "40001".equals(e.getSQLState()) || "40P01".equals(e.getSQLState());
        }

        @Override
        boolean isDiskFull(SQLException e) {
            // disk_full (53100): the server could not extend a file
            return "53100".equals(e.getSQLState())
                    || String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT).contains("no space left on device");
        }

        @Override
        String orderedId() {
            return "id COLLATE \"C\""; // a locale collation would sort '-' unlike MigrationId
        }

        @Override
        boolean serializeWritesInProcess() {
            return false;
        }

        @Override
        void lockSchema(java.sql.Connection c) throws SQLException {
            // CREATE TABLE IF NOT EXISTS races in PostgreSQL (a duplicate pg_type row); one
            // transaction-scoped advisory lock makes concurrent openers take turns
            try (java.sql.Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_xact_lock(" + SCHEMA_LOCK + ")");
            }
        }
    };

    /** The advisory lock key PostgreSQL openers take while they read and upgrade the schema. */
    static final long SCHEMA_LOCK = 0x466c656574L; // "Fleet"

    /**
     * Serialises schema upgrades between processes, in the caller's transaction. SQLite needs
     * nothing: its first write takes the database's only write lock.
     */
    void lockSchema(java.sql.Connection c) throws SQLException {
        // nothing by default
    }

    /** True when the statement broke a primary key or unique index. */
    abstract boolean isUniqueViolation(SQLException e);

    /** True when the whole transaction may simply be run again (lock contention, serialization). */
    abstract boolean isTransient(SQLException e);

    /** True when the write failed because the disk (or the database's size limit) is full. */
    abstract boolean isDiskFull(SQLException e);

    /** The id column as an ORDER BY term that sorts like {@code MigrationId.compareTo}. */
    abstract String orderedId();

    /**
     * True when the database has one writer at a time (SQLite): writers of one process then
     * queue on a Java lock instead of polling the file lock, and only other processes meet
     * busy_timeout.
     */
    abstract boolean serializeWritesInProcess();

    /**
     * A statement answering one number that moves, on a connection that never writes, whenever
     * any other connection has committed; or null when the database has no such cheap read
     * (PostgreSQL: the store then offers no change stamp, and nothing is cached from it).
     */
    String changeStampSql() {
        return null;
    }
}
