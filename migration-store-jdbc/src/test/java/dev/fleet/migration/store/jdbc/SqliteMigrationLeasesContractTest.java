package dev.fleet.migration.store.jdbc;

import dev.fleet.migration.core.contract.MigrationLeasesContract;
import dev.fleet.migration.core.spi.MigrationLeases;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

class SqliteMigrationLeasesContractTest extends MigrationLeasesContract {
    @TempDir
    Path dir;
    private SqliteMigrationStore store;

    @Override
    protected MigrationLeases newLeases() {
        store = SqliteMigrationStore.open(dir.resolve("migrations.db"));
        return store.leases();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }
}
