package dev.fleet.migration.docker;

import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.Names;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The node side of the retention sweep: removes what the archive directory holds for ended
 * migrations (the archive, the delta, the change fence, staging and transport leftovers: every
 * name that starts with {@code <migration>.} or {@code .<migration>.}) once the newest of them
 * was last modified before the cutoff. The journal and anything whose name is not a migration's
 * are never touched, nor are volumes, containers or images: they do not live here. Symbolic links
 * are removed, never followed.
 */
final class ArchiveSweeper {
    private static final String JOURNAL_PREFIX = "journal.";

    private ArchiveSweeper() {}

    static List<String> sweep(Path archiveDir, Instant olderThan, Set<MigrationId> keep) {
        Map<MigrationId, List<Path>> byMigration = new TreeMap<>();
        try (Stream<Path> entries = Files.list(archiveDir)) {
            entries.forEach(p -> owner(p.getFileName().toString())
                    .ifPresent(id -> byMigration.computeIfAbsent(id, k -> new ArrayList<>()).add(p)));
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the archive directory " + archiveDir, e);
        }
        List<String> removed = new ArrayList<>();
        for (Map.Entry<MigrationId, List<Path>> e : byMigration.entrySet()) {
            if (keep.contains(e.getKey())) {
                continue;
            }
            Instant newest = Instant.MIN;
            for (Path p : e.getValue()) {
                Instant modified = modified(p);
                newest = modified.isAfter(newest) ? modified : newest;
            }
            if (!newest.isBefore(olderThan)) {
                continue;
            }
            long bytes = 0;
            List<String> names = new ArrayList<>();
            for (Path p : e.getValue()) {
                bytes += delete(p);
                names.add(p.getFileName().toString());
            }
            removed.add("removed the files of " + e.getKey() + " (" + String.join(", ", names) + "; "
                    + String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0) + "), last changed " + newest);
        }
        return removed;
    }

    /** The migration a name in the archive directory belongs to, if it belongs to one. */
    static java.util.Optional<MigrationId> owner(String name) {
        String plain = name.startsWith(".") ? name.substring(1) : name;
        int dot = plain.indexOf('.');
        if (dot <= 0 || name.startsWith(JOURNAL_PREFIX)) {
            return java.util.Optional.empty();
        }
        String id = plain.substring(0, dot);
        return Names.MIGRATION_ID.matcher(id).matches() ? java.util.Optional.of(MigrationId.of(id))
                : java.util.Optional.empty();
    }

    private static Instant modified(Path p) {
        try {
            return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant();
        } catch (IOException e) {
            return Instant.MIN;
        }
    }

    /** Deletes a file, a link or a whole tree without following links; returns the bytes freed. */
    private static long delete(Path root) {
        long[] bytes = {0};
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    bytes[0] += attrs.isRegularFile() ? attrs.size() : 0;
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException failure) throws IOException {
                    if (failure != null) {
                        throw failure;
                    }
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException e) {
            // gone already
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + root, e);
        }
        return bytes[0];
    }
}
