package dev.fleet.migration.storage.cow.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/** Small file-system helpers the snapshotters share. */
public final class Trees {
    private Trees() {}

    /** A fresh hidden name beside {@code path}: {@code .<name>.<purpose>-<random>}. */
    public static Path hiddenSibling(Path path, String purpose) {
        return path.resolveSibling("." + path.getFileName() + "." + purpose + "-"
                + UUID.randomUUID().toString().substring(0, 8));
    }

    /** The entries directly in {@code dir}, or none when it does not exist. */
    public static List<Path> children(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return new ArrayList<>(s.sorted().toList());
        }
    }

    /** Removes {@code dir} if it exists and is empty; anything else is left alone. */
    public static void removeIfEmpty(Path dir) {
        try {
            if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) && children(dir).isEmpty()) {
                Files.deleteIfExists(dir);
            }
        } catch (IOException ignored) {
            // not empty after all, or busy: harmless to leave
        }
    }

    /** True when {@code dir} is a directory with nothing in it. */
    public static boolean isEmptyDirectory(Path dir) {
        try {
            return Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) && children(dir).isEmpty();
        } catch (IOException e) {
            return false;
        }
    }
}
