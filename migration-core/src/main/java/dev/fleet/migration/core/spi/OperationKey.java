package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.MigrationId;
import java.util.Objects;

/**
 * What makes a node operation idempotent: (migration, operation, epoch). A node remembers each
 * key in its journal and answers a repeated request with the first result.
 */
public record OperationKey(MigrationId migration, OperationKind kind, long epoch) {
    public OperationKey {
        Objects.requireNonNull(migration, "migration");
        Objects.requireNonNull(kind, "kind");
        if (!kind.isNodeOperation()) {
            throw new InvalidInputException("operation", kind.wireName(), "must be a node operation");
        }
        if (epoch < 1) {
            throw new InvalidInputException("epoch", String.valueOf(epoch), "must be at least 1");
        }
    }

    @Override
    public String toString() {
        return migration + "/" + kind.wireName() + "@" + epoch;
    }
}
