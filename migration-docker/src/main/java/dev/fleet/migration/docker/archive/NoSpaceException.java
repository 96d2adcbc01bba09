package dev.fleet.migration.docker.archive;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A write ran out of space (ENOSPC, or EDQUOT for a quota): not a refused archive. The message
 * says what was being written, where, and how full that filesystem is, so an operator knows
 * which disk to free or grow: {@code no space left on device: could not write volume 'data'
 * into /var/lib/docker/volumes/data/_data (that filesystem has 0 bytes free of 40.0 MiB)}.
 */
public final class NoSpaceException extends ArchiveException {
    private static final long serialVersionUID = 1L;
    private final transient Path where;

    /**
     * @param what  what was being written, in words ("volume 'data'", "image.tar")
     * @param where the directory or file it was written to
     */
    public NoSpaceException(String what, Path where, Throwable cause) {
        super("no space left on device: could not write " + what + " into " + where + " (" + space(where) + ")", cause);
        this.where = where;
    }

    /** Where the write failed. */
    public Path where() {
        return where;
    }

    /**
     * True when {@code t} or one of its causes is a write that found no space: this exception, or
     * any exception whose message is the kernel's "No space left on device" or "Disk quota exceeded"
     * (Java's I/O reports ENOSPC that way; the Docker engine reports it in lower case).
     */
    public static boolean causedBy(Throwable t) {
        for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
            if (t instanceof NoSpaceException) {
                return true;
            }
            String m = t.getMessage();
            if (m != null) {
                String lower = m.toLowerCase(Locale.ROOT);
                if (lower.contains("no space left on device") || lower.contains("disk quota exceeded")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** "that filesystem has 0 bytes free of 40.0 MiB", or why that could not be read. */
    public static String space(Path where) {
        Path p = where;
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        if (p == null) {
            return "its filesystem could not be found";
        }
        try {
            FileStore fs = Files.getFileStore(p);
            return "that filesystem has " + bytes(fs.getUsableSpace()) + " free of " + bytes(fs.getTotalSpace());
        } catch (IOException | RuntimeException e) {
            return "the free space there could not be read: " + e.getMessage();
        }
    }

    /** Bytes in words ({@link dev.fleet.migration.core.ByteSizes}): "512 B", "3.2 MiB". */
    public static String bytes(long n) {
        return dev.fleet.migration.core.ByteSizes.of(n);
    }
}
