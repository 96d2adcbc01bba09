package dev.fleet.migration.store.jdbc;

import dev.fleet.migration.core.contract.MigrationStoreContract;
import dev.fleet.migration.core.spi.MigrationStore;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

class SqliteMigrationStoreContractTest extends MigrationStoreContract {
    @TempDir
    Path dir;

    @Override
    protected MigrationStore newStore() {
        return SqliteMigrationStore.open(dir.resolve("migrations.db"));
    }

    @AfterEach
    void closeStore() {
        ((SqliteMigrationStore) store).close();
    }
}
