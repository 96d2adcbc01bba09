package dev.fleet.migration.docker.archive;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** sha256 helpers. */
public final class Digests {
    private Digests() {}

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    public static String hex(MessageDigest d) {
        return HexFormat.of().formatHex(d.digest());
    }

    /** The sha256 of a file, streamed. */
    public static String ofFile(java.nio.file.Path file) {
        return ofFile(file, n -> { });
    }

    /**
     * The sha256 of a file, streamed, telling {@code progress} the length of every chunk read
     * (which may throw to stop the reading, as a cancelled operation does).
     */
    public static String ofFile(java.nio.file.Path file, java.util.function.LongConsumer progress) {
        MessageDigest d = sha256();
        byte[] buf = new byte[256 * 1024];
        try (var in = java.nio.file.Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                d.update(buf, 0, n);
                progress.accept(n);
            }
        } catch (java.io.IOException e) {
            throw new ArchiveException("could not read " + file + ": " + e.getMessage(), e);
        }
        return hex(d);
    }
}
