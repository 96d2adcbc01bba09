package dev.fleet.migration.core.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.spi.MigrationLeases;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What every {@link MigrationLeases} must do. Subclass it with a method that returns new, empty
 * leases; the subclass is the whole test.
 */
public abstract class MigrationLeasesContract {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final MigrationId M = MigrationId.of("m-lease-1");

    protected MigrationLeases leases;

    /** New leases over an empty store. Called before every test. */
    protected abstract MigrationLeases newLeases();

    @BeforeEach
    void makeLeases() {
        leases = newLeases();
    }

    private static Instant at(int seconds) {
        return T0.plusSeconds(seconds);
    }

    @Test
    @DisplayName("a lease nobody holds is granted, and stored with its owner and expiry")
    void grantsAFreeLease() {
        assertThat(leases.find(M)).isEmpty();
        assertThat(leases.acquire(M, "cp-1", at(0), at(15), false)).isTrue();
        assertThat(leases.find(M)).hasValue(new MigrationLeases.Lease(M, "cp-1", at(15)));
    }

    @Test
    @DisplayName("a lease another replica holds is refused until it expires, then granted")
    void refusesAHeldLeaseUntilItExpires() {
        leases.acquire(M, "cp-1", at(0), at(15), false);
        assertThat(leases.acquire(M, "cp-2", at(14), at(29), false)).isFalse();
        assertThat(leases.find(M).orElseThrow().owner()).isEqualTo("cp-1");
        assertThat(leases.acquire(M, "cp-2", at(16), at(31), false)).isTrue();
        assertThat(leases.find(M)).hasValue(new MigrationLeases.Lease(M, "cp-2", at(31)));
        assertThat(leases.acquire(M, "cp-1", at(17), at(32), false)).as("the old holder does not get it back").isFalse();
    }

    @Test
    @DisplayName("the holder renews its own lease, even after it expired")
    void renewsOwnLease() {
        leases.acquire(M, "cp-1", at(0), at(15), false);
        assertThat(leases.acquire(M, "cp-1", at(5), at(20), false)).isTrue();
        assertThat(leases.acquire(M, "cp-1", at(60), at(75), false)).isTrue();
        assertThat(leases.find(M).orElseThrow().expiresAt()).isEqualTo(at(75));
    }

    @Test
    @DisplayName("force takes a lease another replica holds (an operator's abort)")
    void forceTakesAHeldLease() {
        leases.acquire(M, "cp-1", at(0), at(15), false);
        assertThat(leases.acquire(M, "cp-2", at(1), at(16), true)).isTrue();
        assertThat(leases.find(M).orElseThrow().owner()).isEqualTo("cp-2");
    }

    @Test
    @DisplayName("release by the holder frees the lease; release by anyone else changes nothing")
    void releaseOnlyByTheHolder() {
        leases.acquire(M, "cp-1", at(0), at(15), false);
        leases.release(M, "cp-2");
        assertThat(leases.find(M).orElseThrow().owner()).isEqualTo("cp-1");
        leases.release(M, "cp-1");
        assertThat(leases.find(M)).isEmpty();
        assertThat(leases.acquire(M, "cp-2", at(1), at(16), false)).isTrue();
    }

    @Test
    @DisplayName("leases of different migrations are independent")
    void leasesAreIndependent() {
        MigrationId other = MigrationId.of("m-lease-2");
        assertThat(leases.acquire(M, "cp-1", at(0), at(15), false)).isTrue();
        assertThat(leases.acquire(other, "cp-2", at(0), at(15), false)).isTrue();
        assertThat(leases.find(other).orElseThrow().owner()).isEqualTo("cp-2");
    }

    @Test
    @DisplayName("replicas racing for one free lease: exactly one gets it")
    void concurrentAcquireOneWins() throws Exception {
        int n = 8;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> fs = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                String owner = "cp-" + i;
                fs.add(pool.submit(() -> {
                    go.await();
                    return leases.acquire(M, owner, at(0), at(15), false);
                }));
            }
            go.countDown();
            int won = 0;
            for (Future<Boolean> f : fs) {
                if (f.get(30, TimeUnit.SECONDS)) {
                    won++;
                }
            }
            assertThat(won).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }
}
