package dev.fleet.migration.transport.internal;

import dev.fleet.migration.core.spi.TransportException;
import dev.fleet.migration.core.spi.TransportException.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What is being sent: one regular file, or a directory tree of directories and regular files
 * (listed parents first, so a receiver can create them in order). Anything else (devices,
 * sockets, links) is refused: an archive directory holds none.
 */
public record LocalSource(Path root, boolean directory, long totalBytes, List<Path> directories, List<Path> files) {

    /**
     * Every transport's first step: checks its arguments, stops if the transfer was cancelled
     * already, and scans what is to be sent.
     */
    public static LocalSource forTransfer(dev.fleet.migration.core.spi.TransferRequest request,
                                          dev.fleet.migration.core.spi.ProgressListener progress,
                                          dev.fleet.migration.core.spi.Cancellation cancellation) {
        java.util.Objects.requireNonNull(request, "request");
        java.util.Objects.requireNonNull(progress, "progress");
        java.util.Objects.requireNonNull(cancellation, "cancellation");
        cancellation.check("the transfer of " + request.name());
        return scan(request.source());
    }

    public static LocalSource scan(Path source) {
        Path root = source.toAbsolutePath().normalize();
        if (Files.isRegularFile(root, LinkOption.NOFOLLOW_LINKS)) {
            try {
                return new LocalSource(root, false, Files.size(root), List.of(), List.of(root));
            } catch (IOException e) {
                throw new TransportException(Reason.IO, "cannot read " + root + ": " + e.getMessage(), e);
            }
        }
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            throw new TransportException(Reason.IO, "source " + root + " is neither a regular file nor a directory");
        }
        List<Path> dirs = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        long total = 0;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
                if (p.equals(root)) {
                    continue;
                }
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    dirs.add(p);
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    files.add(p);
                    total += Files.size(p);
                } else {
                    throw new TransportException(Reason.INVALID_NAME,
                            "source " + p + " is not a regular file or directory; refusing to send it");
                }
            }
        } catch (IOException e) {
            throw new TransportException(Reason.IO, "cannot list " + root + ": " + e.getMessage(), e);
        }
        return new LocalSource(root, true, total, List.copyOf(dirs), List.copyOf(files));
    }

    /** The '/'-separated path of {@code p} below the root. */
    public String relative(Path p) {
        String rel = root.relativize(p).toString();
        if (rel.indexOf('\n') >= 0 || rel.indexOf('\0') >= 0) {
            throw new TransportException(Reason.INVALID_NAME, "file name " + dev.fleet.migration.core.Names.quote(rel)
                    + " holds a newline or NUL");
        }
        return rel;
    }
}
