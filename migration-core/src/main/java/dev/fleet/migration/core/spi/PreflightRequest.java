package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import java.util.Objects;

/**
 * Ask a node whether a migration can run. {@code expectedBytes} is the source's estimate of
 * the archive, so the target can check its free space (0 when asking the source).
 */
public record PreflightRequest(MigrationId migration, long epoch, AppRef app, Role role, NodeId source,
                               NodeId target, long expectedBytes) {
    public PreflightRequest {
        Objects.requireNonNull(migration, "migration");
        Objects.requireNonNull(app, "app");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
    }
}
