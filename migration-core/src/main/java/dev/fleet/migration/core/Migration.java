package dev.fleet.migration.core;

import dev.fleet.migration.core.spi.OperationKind;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One migration, as stored. Immutable: every change is a new record made by
 * {@link StateMachine#apply}, with {@link #version()} one higher.
 *
 * @param id        the migration's id
 * @param app       what moves
 * @param source    the node it leaves
 * @param target    the node it moves to (never equal to {@code source})
 * @param state     the current state
 * @param version   optimistic-concurrency version; every save is a compare-and-set on it
 * @param epoch     fencing token sent with every node call; raised when a control plane adopts
 *                  the migration, and higher than every earlier migration's of the same app
 * @param createdAt when it was created
 * @param updatedAt when it last changed
 * @param steps     per state, when its work started and ended
 * @param operations per operation, when it was started and when it finished
 * @param progress  the running step's progress
 * @param archive   the archive the source wrote, once the snapshot finished
 * @param facts     small facts nodes reported (the app's port, the stop instant), as strings
 * @param failing   the reason, once the migration was told to fail; from then on every tick, by
 *                  any control plane, compensates and ends it FAILED instead of moving it on
 * @param failure   why it failed, once it has
 * @param downtime  measured cutover downtime: from the source's stop to the route's switch
 * @param detail    what the migration is doing or waiting for, for people
 */
public record Migration(
        MigrationId id,
        AppRef app,
        NodeId source,
        NodeId target,
        MigrationState state,
        long version,
        long epoch,
        Instant createdAt,
        Instant updatedAt,
        Map<MigrationState, Span> steps,
        Map<OperationKind, Span> operations,
        Progress progress,
        Optional<ArchiveInfo> archive,
        Map<String, String> facts,
        Optional<String> failing,
        Optional<Failure> failure,
        Optional<Duration> downtime,
        Optional<String> detail) {

    public Migration {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(app, "app");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
        Objects.requireNonNull(progress, "progress");
        Objects.requireNonNull(archive, "archive");
        Objects.requireNonNull(failing, "failing");
        Objects.requireNonNull(failure, "failure");
        Objects.requireNonNull(downtime, "downtime");
        Objects.requireNonNull(detail, "detail");
        if (source.equals(target)) {
            throw new InvalidInputException("target", target.value(), "must differ from source '" + source.value() + "'");
        }
        if (version < 1) {
            throw new InvalidInputException("version", String.valueOf(version), "must be at least 1");
        }
        if (epoch < 1) {
            throw new InvalidInputException("epoch", String.valueOf(epoch), "must be at least 1");
        }
        if ((state == MigrationState.FAILED) != failure.isPresent()) {
            throw new IllegalArgumentException("a failure is recorded exactly when the state is FAILED (state "
                    + state + ", failure " + failure + ")");
        }
        steps = Collections.unmodifiableMap(steps.isEmpty()
                ? new EnumMap<>(MigrationState.class) : new EnumMap<>(steps));
        operations = Collections.unmodifiableMap(operations.isEmpty()
                ? new EnumMap<>(OperationKind.class) : new EnumMap<>(operations));
        facts = Collections.unmodifiableMap(new TreeMap<>(facts));
    }

    /** A new migration in PENDING, version 1. */
    public static Migration create(MigrationId id, AppRef app, NodeId source, NodeId target, long epoch, Instant now) {
        Map<MigrationState, Span> steps = new EnumMap<>(MigrationState.class);
        steps.put(MigrationState.PENDING, Span.startedAt(now));
        return new Migration(id, app, source, target, MigrationState.PENDING, 1, epoch, now, now, steps,
                Map.of(), Progress.NONE, Optional.empty(), Map.of(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty());
    }

    public boolean isTerminal() {
        return state.isTerminal();
    }

    /** True once the operation was started (it may still be running). */
    public boolean started(OperationKind kind) {
        return operations.containsKey(kind);
    }

    /** True once the operation finished successfully. */
    public boolean finished(OperationKind kind) {
        Span span = operations.get(kind);
        return span != null && span.isFinished();
    }

    /** The same record under another version: several events applied in memory are saved as one. */
    Migration withVersion(long newVersion) {
        return new Migration(id, app, source, target, state, newVersion, epoch, createdAt, updatedAt, steps,
                operations, progress, archive, facts, failing, failure, downtime, detail);
    }

    Migration with(MigrationState state, long version, long epoch, Instant updatedAt,
                   Map<MigrationState, Span> steps, Map<OperationKind, Span> operations, Progress progress,
                   Optional<ArchiveInfo> archive, Map<String, String> facts, Optional<String> failing,
                   Optional<Failure> failure, Optional<Duration> downtime, Optional<String> detail) {
        return new Migration(id, app, source, target, state, version, epoch, createdAt, updatedAt, steps,
                operations, progress, archive, facts, failing, failure, downtime, detail);
    }
}
