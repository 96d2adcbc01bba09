package dev.fleet.migration.storage.cow.internal;

import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.Names;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The allow-lists for names that reach a {@code btrfs} or {@code zfs} command line.
 *
 * <p>They are deliberately stricter than the backends: ZFS accepts spaces and colons in dataset
 * and snapshot names (and {@code %} in its own hidden names), btrfs accepts anything but
 * {@code /} and NUL. We accept letters, digits, {@code _ . -} only, starting with a letter or
 * digit, so a name can never look like an option, a property assignment, a second operand or a
 * path step. A volume on a dataset whose name falls outside this list is not supported by
 * {@code ZfsSnapshotter} and falls back to the Docker snapshotter.
 */
public final class CowNames {
    /** One path component: a subvolume name, a dataset name component, a snapshot name. */
    public static final Pattern COMPONENT = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
    /** A ZFS dataset: the pool, then components separated by single slashes. */
    public static final Pattern DATASET = Pattern.compile("[a-zA-Z][a-zA-Z0-9_.-]*(/[a-zA-Z0-9][a-zA-Z0-9_.-]*)*");
    /** ZFS's limit on a full name ({@code pool/a/b@snap}), MAXNAMELEN - 1. */
    public static final int ZFS_NAME_MAX = 255;
    /** btrfs's limit on one name (NAME_MAX). */
    public static final int BTRFS_NAME_MAX = 255;
    /**
     * Paths we pass as a property value ({@code zfs ... -o mountpoint=PATH}): absolute, no
     * spaces, commas, quotes or control characters.
     */
    public static final Pattern PROPERTY_PATH = Pattern.compile("(/[a-zA-Z0-9_.@:+-]+)+");

    private CowNames() {}

    public static String component(String field, String value) {
        return Names.require(field, value, COMPONENT, BTRFS_NAME_MAX);
    }

    public static String dataset(String field, String value) {
        Names.require(field, value, DATASET, ZFS_NAME_MAX);
        if (value.contains("/.") || value.contains("..")) {
            throw new InvalidInputException(field, value, "must not have a component starting with '.' or holding '..'");
        }
        return value;
    }

    /** {@code dataset@snapshot}, both parts checked, the whole within ZFS's limit. */
    public static String zfsSnapshot(String dataset, String snapshot) {
        dataset("dataset", dataset);
        component("snapshot", snapshot);
        String full = dataset + "@" + snapshot;
        if (full.length() > ZFS_NAME_MAX) {
            throw new InvalidInputException("snapshot", full, "must be at most " + ZFS_NAME_MAX + " characters long");
        }
        return full;
    }

    public static String propertyPath(String field, Path path) {
        String s = path.toString();
        if (!path.isAbsolute() || !path.normalize().equals(path)) {
            throw new InvalidInputException(field, s, "must be an absolute, normalised path");
        }
        return Names.require(field, s, PROPERTY_PATH, 1024);
    }

    /** The last component of {@code path}, checked against {@link #COMPONENT}. */
    public static String leaf(String field, Path path) {
        Path name = path.getFileName();
        if (name == null || path.getParent() == null) {
            throw new InvalidInputException(field, path.toString(), "must name a directory below another one");
        }
        return component(field, name.toString());
    }
}
