package dev.fleet.migration.core.memory;

import dev.fleet.migration.core.contract.MigrationStoreContract;
import dev.fleet.migration.core.spi.MigrationStore;

class InMemoryMigrationStoreContractTest extends MigrationStoreContract {
    @Override
    protected MigrationStore newStore() {
        return new InMemoryMigrationStore();
    }
}
