package dev.fleet.migration.transport;

import java.util.List;

/**
 * The program that computes the sha256 of the received file on the target. All print the
 * lower-case hex digest first.
 *
 * <p>{@link #AUTO}, the default, runs {@code openssl dgst} when the target has it and
 * coreutils' {@code sha256sum} otherwise: on CPUs with SHA extensions openssl hashes at
 * memory speed (about 1.2 GB/s here) while Debian 12's sha256sum, built without OpenSSL, manages
 * about 0.33 GB/s, and this pass over the received file is the largest cost a verified transfer
 * adds to a plain copy. {@link #SHA256SUM} and {@link #OPENSSL} force one program.
 */
public enum RemoteHash {
    AUTO,
    SHA256SUM,
    OPENSSL;

    /**
     * The fixed script behind {@link #AUTO}: the path arrives as {@code $1}, never inside the
     * script text, so no value is ever parsed by the shell.
     */
    static final String AUTO_SCRIPT = "if command -v openssl >/dev/null 2>&1; "
            + "then exec openssl dgst -sha256 -r \"$1\"; else exec sha256sum -- \"$1\"; fi";

    /** The argument list that hashes {@code path} (an absolute, allow-listed path). */
    public List<String> command(String path) {
        return switch (this) {
            case AUTO -> List.of("sh", "-c", AUTO_SCRIPT, "sh", path);
            // openssl dgst has no "--"; the path is absolute, so it can never read as an option
            case OPENSSL -> List.of("openssl", "dgst", "-sha256", "-r", path);
            case SHA256SUM -> List.of("sha256sum", "--", path);
        };
    }
}
