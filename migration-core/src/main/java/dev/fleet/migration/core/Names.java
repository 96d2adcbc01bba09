package dev.fleet.migration.core;

import java.util.regex.Pattern;

/**
 * The allow-lists every name in the system is checked against, and a safe way to quote a
 * rejected value in an error message (control characters escaped, long values cut), so that a
 * hostile name can never break a log line or a terminal.
 */
public final class Names {
    /** Docker's container-name rule; also used for compose projects and volume names. */
    public static final Pattern DOCKER_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
    public static final int DOCKER_NAME_MAX = 255;
    /** Docker compose's project-name rule. */
    public static final Pattern COMPOSE_PROJECT = Pattern.compile("[a-z0-9][a-z0-9_-]*");
    /** Node ids: a DNS label. */
    public static final Pattern NODE_ID = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    /** Migration ids: lower-case letters, digits and dashes, as {@link MigrationIds} makes them. */
    public static final Pattern MIGRATION_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");
    /** Lower-case hex sha256. */
    public static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    /** A plain file name inside an archive directory: no separators, no leading dot or dash. */
    public static final Pattern FILE_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}");

    private Names() {}

    /**
     * Checks {@code value} against {@code pattern} and a maximum length.
     *
     * @throws InvalidInputException naming the field, the rule and the (quoted) value
     */
    public static String require(String field, String value, Pattern pattern, int maxLength) {
        if (value == null) {
            throw new InvalidInputException(field, null, "must be present");
        }
        if (value.length() > maxLength) {
            throw new InvalidInputException(field, value,
                    "must be at most " + maxLength + " characters long (was " + value.length() + ")");
        }
        if (!pattern.matcher(value).matches()) {
            throw new InvalidInputException(field, value, "must match " + pattern.pattern());
        }
        return value;
    }

    /**
     * Quotes a value for an error message: non-printable and non-ASCII characters become
     * {@code \\uXXXX} escapes (so Unicode look-alikes are visible), and values longer than
     * 80 characters are cut with their full length noted.
     */
    public static String quote(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder("'");
        int limit = Math.min(value.length(), 80);
        for (int i = 0; i < limit; i++) {
            char c = value.charAt(i);
            if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
                out.append(c);
            } else {
                out.append(String.format("\\u%04x", (int) c));
            }
        }
        out.append('\'');
        if (value.length() > limit) {
            out.append("... (").append(value.length()).append(" characters)");
        }
        return out.toString();
    }
}
