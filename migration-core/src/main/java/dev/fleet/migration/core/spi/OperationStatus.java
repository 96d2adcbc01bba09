package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.Progress;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a node operation is. A {@code SUCCEEDED} snapshot carries the archive; a
 * {@code FAILED} operation carries the error; {@code facts} hold small results such as the
 * app's port ({@code app.port}).
 */
public record OperationStatus(OperationKey key, Phase phase, Progress progress, Optional<ArchiveInfo> archive,
                              Map<String, String> facts, Optional<String> error) {
    public enum Phase {
        RUNNING, SUCCEEDED, FAILED
    }

    public OperationStatus {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(progress, "progress");
        Objects.requireNonNull(archive, "archive");
        facts = Map.copyOf(facts);
        Objects.requireNonNull(error, "error");
        if ((phase == Phase.FAILED) != error.isPresent()) {
            throw new IllegalArgumentException("an error is given exactly when the phase is FAILED");
        }
    }

    public static OperationStatus running(OperationKey key, Progress progress) {
        return new OperationStatus(key, Phase.RUNNING, progress, Optional.empty(), Map.of(), Optional.empty());
    }

    public static OperationStatus succeeded(OperationKey key, Progress progress, Optional<ArchiveInfo> archive,
                                            Map<String, String> facts) {
        return new OperationStatus(key, Phase.SUCCEEDED, progress, archive, facts, Optional.empty());
    }

    public static OperationStatus failed(OperationKey key, String error) {
        return new OperationStatus(key, Phase.FAILED, Progress.NONE, Optional.empty(), Map.of(), Optional.of(error));
    }

    /** The same status re-keyed, for a node that adopts an operation into a higher epoch. */
    public OperationStatus withKey(OperationKey newKey) {
        return new OperationStatus(newKey, phase, progress, archive, facts, error);
    }
}
