package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.Names;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Push one file or directory from this node to a target.
 *
 * @param source         the local file (an archive) or directory
 * @param target         the target node's SSH endpoint (unused by a shared-directory transport)
 * @param targetDirectory the absolute directory on the target that receives it
 * @param name           the name it gets there; checked against {@link Names#FILE_NAME}, so it
 *                       can never start with {@code -} or hold a separator, space or quote
 * @param sha256         the expected sha256 of a file, verified on the target before success
 * @param bandwidthLimit bytes per second, when limited
 */
public record TransferRequest(Path source, Endpoint target, String targetDirectory, String name,
                              Optional<String> sha256, OptionalLong bandwidthLimit) {
    private static final java.util.regex.Pattern ABSOLUTE_DIR =
            java.util.regex.Pattern.compile("/([a-zA-Z0-9_.-]+/?)*");

    public TransferRequest {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        Names.require("targetDirectory", targetDirectory, ABSOLUTE_DIR, 4096);
        if (targetDirectory.contains("/../") || targetDirectory.endsWith("/..")) {
            throw new InvalidInputException("targetDirectory", targetDirectory, "must not contain '..'");
        }
        Names.require("name", name, Names.FILE_NAME, 255);
        Objects.requireNonNull(sha256, "sha256");
        sha256.ifPresent(s -> Names.require("sha256", s, Names.SHA256, 64));
        Objects.requireNonNull(bandwidthLimit, "bandwidthLimit");
        if (bandwidthLimit.isPresent() && bandwidthLimit.getAsLong() <= 0) {
            throw new InvalidInputException("bandwidthLimit", String.valueOf(bandwidthLimit.getAsLong()),
                    "must be positive");
        }
    }

    /** Where it ends up on the target. */
    public String remotePath() {
        return targetDirectory.endsWith("/") ? targetDirectory + name : targetDirectory + "/" + name;
    }
}
