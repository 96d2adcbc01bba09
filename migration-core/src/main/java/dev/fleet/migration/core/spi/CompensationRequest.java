package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.MigrationId;
import java.util.Objects;
import java.util.Set;

/**
 * Undo a migration's effects on one node. {@code started} names every operation the migration
 * started, so the node knows what may need undoing: on the target, remove everything labelled
 * with this migration (containers, volumes, staging, the received archive); on the source,
 * restore the original restart policy, rename the container back if it was retired, start it
 * if it was running before, and remove the archive the snapshot wrote.
 */
public record CompensationRequest(MigrationId migration, long epoch, AppRef app, Role role,
                                  Set<OperationKind> started) {
    public CompensationRequest {
        Objects.requireNonNull(migration, "migration");
        Objects.requireNonNull(app, "app");
        Objects.requireNonNull(role, "role");
        started = Set.copyOf(started);
    }
}
