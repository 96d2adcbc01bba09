package dev.fleet.migration.transport;

import java.util.List;

/**
 * The program that computes the sha256 of the received file on the target. Both print the
 * lower-case hex digest first. {@link #SHA256SUM} (coreutils) is everywhere;
 * {@link #OPENSSL} is several times faster on CPUs with SHA extensions, when installed.
 */
public enum RemoteHash {
    SHA256SUM,
    OPENSSL;

    /** The argument list that hashes {@code path} (an absolute, allow-listed path). */
    public List<String> command(String path) {
        return switch (this) {
            // openssl dgst has no "--"; the path is absolute, so it can never read as an option
            case OPENSSL -> List.of("openssl", "dgst", "-sha256", "-r", path);
            case SHA256SUM -> List.of("sha256sum", "--", path);
        };
    }
}
