package dev.fleet.migration.core.memory;

import dev.fleet.migration.core.contract.MigrationLeasesContract;
import dev.fleet.migration.core.spi.MigrationLeases;

class InMemoryMigrationLeasesContractTest extends MigrationLeasesContract {
    @Override
    protected MigrationLeases newLeases() {
        return new InMemoryMigrationLeases();
    }
}
