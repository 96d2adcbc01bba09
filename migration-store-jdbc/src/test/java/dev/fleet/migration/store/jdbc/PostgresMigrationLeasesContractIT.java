package dev.fleet.migration.store.jdbc;

import dev.fleet.migration.core.contract.MigrationLeasesContract;
import dev.fleet.migration.core.spi.MigrationLeases;
import org.junit.jupiter.api.AfterEach;

/** The lease contract on a real PostgreSQL server (scripts/ci/services/postgres.sh). */
class PostgresMigrationLeasesContractIT extends MigrationLeasesContract {
    private PostgresMigrationStore store;

    @Override
    protected MigrationLeases newLeases() {
        store = TestPostgres.freshStore();
        return store.leases();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }
}
