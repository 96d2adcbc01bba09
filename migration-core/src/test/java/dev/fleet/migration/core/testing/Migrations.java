package dev.fleet.migration.core.testing;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.Compensation;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationEvent;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.Rejection;
import dev.fleet.migration.core.StateMachine;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/** Builders for records in tests, made only through the real transition function. */
public final class Migrations {
    public static final String SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private Migrations() {}

    public static Migration pending(String id, String app, Instant at) {
        return Migration.create(MigrationId.of(id), AppRef.parse(app), NodeId.of("a"), NodeId.of("b"), 1, at);
    }

    /** Applies an event or fails the test with the rejection. */
    public static Migration apply(Migration m, MigrationEvent e, Clock clock) {
        return StateMachine.apply(m, e, clock).getOrElseThrow(Rejection::toException);
    }

    public static Migration failed(Migration m, Clock clock) {
        return apply(m, new MigrationEvent.Failed("test", Compensation.NOT_NEEDED), clock);
    }

    public static ArchiveInfo archive(String id) {
        return new ArchiveInfo("/var/lib/fleet/migrations/" + id + ".tar", 1024, SHA);
    }

    public static MigrationEvent.OperationFinished finished(dev.fleet.migration.core.spi.OperationKind kind,
                                                            Optional<ArchiveInfo> archive) {
        return new MigrationEvent.OperationFinished(kind, archive, Map.of());
    }
}
