package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.NodeId;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Start one operation on a node.
 *
 * @param key      the idempotency and fencing key
 * @param app      the app being moved
 * @param source   the source node
 * @param target   the target node
 * @param archive  the archive, for every operation after the snapshot
 * @param deadline how long the operation may take; the health gate of START_TARGET fails after it
 */
public record OperationRequest(OperationKey key, AppRef app, NodeId source, NodeId target,
                               Optional<ArchiveInfo> archive, Duration deadline) {
    public OperationRequest {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(app, "app");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(archive, "archive");
        Objects.requireNonNull(deadline, "deadline");
    }

    public OperationKind kind() {
        return key.kind();
    }
}
