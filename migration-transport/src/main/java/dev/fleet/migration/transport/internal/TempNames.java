package dev.fleet.migration.transport.internal;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * The names a transfer uses on the target before the final rename. Fixed (not random) so a
 * retried transfer finds what an earlier, cut attempt left and resumes from it. They start with
 * a dot, which a valid final name never does, so they can never collide with one.
 */
public final class TempNames {
    private TempNames() {}

    public static String partial(String name) {
        return shortened(name) + ".fleet-part";
    }

    public static String old(String name) {
        return shortened(name) + ".fleet-old";
    }

    private static String shortened(String name) {
        if (name.length() <= 200) {
            return "." + name;
        }
        byte[] digest = Hex.sha256().digest(name.getBytes(StandardCharsets.UTF_8));
        return "." + name.substring(0, 160) + "-" + HexFormat.of().formatHex(digest, 0, 8);
    }

    /** {@code dir/name}, with exactly one slash between. */
    public static String join(String dir, String name) {
        return dir.endsWith("/") ? dir + name : dir + "/" + name;
    }
}
