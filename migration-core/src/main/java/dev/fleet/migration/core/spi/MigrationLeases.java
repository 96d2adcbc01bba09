package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.MigrationId;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Which control plane ticks a migration, when several share one {@link MigrationStore}. A lease
 * is an owner and an expiry per migration, taken and renewed by compare-and-set: it is granted
 * when nobody holds it, when its owner asks again (renewal), or when the holder's expiry has
 * passed (the holder died or is paused). Without it, two replicas would both tick every
 * migration and each would raise the epoch to adopt it, stealing it back and forth.
 *
 * <p>A lease decides who <em>should</em> tick; it does not make ticks safe. The epoch and the
 * record's compare-and-set still fence a replica that was paused past its lease and wakes up.
 *
 * <p>When it is called: before every tick ({@code force = false}: a migration leased to someone
 * else is skipped), by {@code create} (the creating replica takes it), by an operator's abort
 * ({@code force = true}: the abort takes the migration over now), and {@link #release} when the
 * migration ends or the control plane closes. Times come from the orchestrator's clock, so the
 * replicas' clocks must agree to well within the lease's length.
 *
 * <p>Thread-safe, and safe across processes sharing one database. Errors: {@code
 * StoreException} for I/O.
 */
public interface MigrationLeases {

    /** Who holds a migration's lease, and until when. */
    record Lease(MigrationId migration, String owner, Instant expiresAt) {
        public Lease {
            Objects.requireNonNull(migration, "migration");
            Objects.requireNonNull(owner, "owner");
            Objects.requireNonNull(expiresAt, "expiresAt");
        }
    }

    /**
     * Takes or renews the lease for {@code owner} until {@code until}, as one compare-and-set:
     * granted when there is no lease, the lease is the owner's, it expired before {@code now},
     * or {@code force} is set.
     *
     * @return true when the owner now holds the lease
     */
    boolean acquire(MigrationId migration, String owner, Instant now, Instant until, boolean force);

    /** Gives the lease up if {@code owner} holds it; does nothing otherwise. */
    void release(MigrationId migration, String owner);

    /** The lease as stored, expired or not; empty when there is none. */
    Optional<Lease> find(MigrationId migration);

    /**
     * For a single control plane: every lease is granted at once and nothing is stored. The
     * orchestrator's default.
     */
    MigrationLeases UNSHARED = new MigrationLeases() {
        @Override
        public boolean acquire(MigrationId migration, String owner, Instant now, Instant until, boolean force) {
            return true;
        }

        @Override
        public void release(MigrationId migration, String owner) {
            // nothing is stored
        }

        @Override
        public Optional<Lease> find(MigrationId migration) {
            return Optional.empty();
        }

        @Override
        public String toString() {
            return "MigrationLeases.UNSHARED";
        }
    };
}
