package dev.fleet.migration.store.jdbc;

import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.spi.MigrationLeases;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * {@link MigrationLeases} in the store's own database, table {@code migration_leases}: one row
 * per leased migration (owner, expiry in epoch milliseconds). Taking a lease is one upsert
 * whose update only applies when the row is the caller's or has expired, so two replicas asking
 * at once cannot both get it; SQLite (3.24+) and PostgreSQL (9.5+) both speak this {@code ON
 * CONFLICT ... DO UPDATE ... WHERE}. Thread-safe; shared by every process on the database.
 */
final class JdbcMigrationLeases implements MigrationLeases {
    private static final String ACQUIRE = "INSERT INTO migration_leases (id, owner, expires_at_ms) VALUES (?, ?, ?)"
            + " ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, expires_at_ms = excluded.expires_at_ms"
            + " WHERE migration_leases.owner = excluded.owner OR migration_leases.expires_at_ms < ?";
    private static final String STEAL = "INSERT INTO migration_leases (id, owner, expires_at_ms) VALUES (?, ?, ?)"
            + " ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, expires_at_ms = excluded.expires_at_ms";

    private final JdbcMigrationStore store;

    JdbcMigrationLeases(JdbcMigrationStore store) {
        this.store = Objects.requireNonNull(store, "store");
    }

    @Override
    public boolean acquire(MigrationId migration, String owner, Instant now, Instant until, boolean force) {
        return store.write("take the lease on migration " + migration, c -> {
            try (PreparedStatement ps = c.prepareStatement(force ? STEAL : ACQUIRE)) {
                ps.setString(1, migration.value());
                ps.setString(2, owner);
                ps.setLong(3, until.toEpochMilli());
                if (!force) {
                    ps.setLong(4, now.toEpochMilli());
                }
                return ps.executeUpdate() == 1;
            }
        });
    }

    @Override
    public void release(MigrationId migration, String owner) {
        store.write("release the lease on migration " + migration, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM migration_leases WHERE id = ? AND owner = ?")) {
                ps.setString(1, migration.value());
                ps.setString(2, owner);
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public Optional<Lease> find(MigrationId migration) {
        return store.read("read the lease on migration " + migration, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT owner, expires_at_ms FROM migration_leases WHERE id = ?")) {
                ps.setString(1, migration.value());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new Lease(migration, rs.getString(1),
                            Instant.ofEpochMilli(rs.getLong(2)))) : Optional.<Lease>empty();
                }
            }
        });
    }

    @Override
    public String toString() {
        return "JdbcMigrationLeases[" + store.location() + "]";
    }
}
