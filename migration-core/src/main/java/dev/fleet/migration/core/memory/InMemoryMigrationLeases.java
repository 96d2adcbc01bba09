package dev.fleet.migration.core.memory;

import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.spi.MigrationLeases;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * {@link MigrationLeases} in memory, shared by several orchestrators of one process (tests, or
 * replicas embedded side by side). One lock makes each acquire a compare-and-set.
 */
public final class InMemoryMigrationLeases implements MigrationLeases {
    private final Map<MigrationId, Lease> leases = new HashMap<>();

    @Override
    public synchronized boolean acquire(MigrationId migration, String owner, Instant now, Instant until,
                                        boolean force) {
        Lease held = leases.get(migration);
        if (force || held == null || held.owner().equals(owner) || held.expiresAt().isBefore(now)) {
            leases.put(migration, new Lease(migration, owner, until));
            return true;
        }
        return false;
    }

    @Override
    public synchronized void release(MigrationId migration, String owner) {
        Lease held = leases.get(migration);
        if (held != null && held.owner().equals(owner)) {
            leases.remove(migration);
        }
    }

    @Override
    public synchronized Optional<Lease> find(MigrationId migration) {
        return Optional.ofNullable(leases.get(migration));
    }
}
