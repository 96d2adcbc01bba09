/**
 * Durable {@link dev.fleet.migration.core.spi.MigrationStore} on JDBC.
 *
 * <p>{@link dev.fleet.migration.store.jdbc.SqliteMigrationStore} is the embedded default: one
 * SQLite file in WAL mode, safe for many threads and for several processes sharing the file.
 * It is the SQLite face of {@link dev.fleet.migration.store.jdbc.JdbcMigrationStore}, which holds
 * the portable SQL (a PostgreSQL store will be its second subclass; the few differences live in
 * one package-private dialect switch).
 *
 * <p>What is stored: a {@code migrations} table with each migration's current record and a
 * {@code migration_history} table with every saved version. The record itself is one JSON
 * document per row (written field by field, so the format is this module's decision); the
 * columns beside it (app, state, version, epoch, creation time) exist to be queried and
 * constrained. The database enforces the store's rules itself: one active migration per app by a
 * partial unique index, compare-and-set by {@code UPDATE ... WHERE version = ?}, a record and
 * its history row in one transaction. The schema is versioned in {@code schema_version} and
 * upgraded in order when a store opens; a database newer than the code is refused with
 * {@link dev.fleet.migration.store.jdbc.SchemaTooNewException}.
 */
package dev.fleet.migration.store.jdbc;
