package dev.fleet.migration.core;

import dev.fleet.migration.core.spi.OperationKind;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** What can happen to a migration; {@link StateMachine#apply} turns one into the next record. */
public sealed interface MigrationEvent {

    /** A control plane takes ownership and raises the epoch, fencing off any older owner. */
    record Adopted(long newEpoch) implements MigrationEvent {}

    /**
     * The current state's work finished and was verified: move to the next state. From PENDING
     * it carries the facts the preflight reported (the app's port, the architecture).
     */
    record Advanced(Map<String, String> facts) implements MigrationEvent {
        public Advanced {
            facts = Map.copyOf(facts);
        }

        public Advanced() {
            this(Map.of());
        }
    }

    /** An operation of the current state is about to be started on its actor. */
    record OperationStarted(OperationKind kind) implements MigrationEvent {
        public OperationStarted {
            Objects.requireNonNull(kind, "kind");
        }
    }

    /** The running operation reported progress. */
    record ProgressReported(Progress progress) implements MigrationEvent {
        public ProgressReported {
            Objects.requireNonNull(progress, "progress");
        }
    }

    /** An operation finished and was verified; {@code archive} is set by the snapshot. */
    record OperationFinished(OperationKind kind, Optional<ArchiveInfo> archive, Map<String, String> facts)
            implements MigrationEvent {
        public OperationFinished {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(archive, "archive");
            facts = Map.copyOf(facts);
        }
    }

    /** The migration waits (node at its limit, node unreachable); only the detail changes. */
    record Waiting(String detail) implements MigrationEvent {
        public Waiting {
            Objects.requireNonNull(detail, "detail");
        }
    }

    /**
     * The decision to fail (an abort, a node's failure, a timeout), saved before compensation
     * starts. Raises the epoch like an adoption, so calls from any older owner are refused.
     * Only the first reason is kept.
     */
    record FailureRequested(String reason) implements MigrationEvent {
        public FailureRequested {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * A compensation attempt that could not finish (a node or the proxy unreachable): what it did
     * is kept, so the final record lists every action of every attempt; the next tick retries.
     */
    record CompensationAttempted(java.util.List<String> actions, String detail) implements MigrationEvent {
        public CompensationAttempted {
            actions = java.util.List.copyOf(actions);
            Objects.requireNonNull(detail, "detail");
        }
    }

    /** Abort or node failure, after compensation ran. */
    record Failed(String reason, Compensation compensation) implements MigrationEvent {
        public Failed {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(compensation, "compensation");
        }
    }
}
