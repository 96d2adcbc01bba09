package dev.fleet.migration.store.jdbc;

import dev.fleet.migration.core.contract.MigrationStoreContract;
import dev.fleet.migration.core.spi.MigrationStore;
import org.junit.jupiter.api.AfterEach;

/** The store contract on a real PostgreSQL server (scripts/ci/services/postgres.sh). */
class PostgresMigrationStoreContractIT extends MigrationStoreContract {
    @Override
    protected MigrationStore newStore() {
        return TestPostgres.freshStore();
    }

    @AfterEach
    void closeStore() {
        ((PostgresMigrationStore) store).close();
    }
}
