package dev.fleet.migration.core;

/**
 * The snapshot archive as the source wrote it: its path on the source node, its size and its
 * sha256. Every other node finds it as {@link #fileName()} in its own archive directory.
 */
public record ArchiveInfo(String path, long size, String sha256) {
    public ArchiveInfo {
        if (path == null || path.isEmpty() || path.indexOf('\0') >= 0 || path.contains("\n")) {
            throw new InvalidInputException("archive.path", path, "must be a non-empty path without NUL or newline");
        }
        if (size < 0) {
            throw new InvalidInputException("archive.size", String.valueOf(size), "must not be negative");
        }
        Names.require("archive.sha256", sha256, Names.SHA256, 64);
        Names.require("archive.fileName", fileNameOf(path), Names.FILE_NAME, 255);
    }

    public String fileName() {
        return fileNameOf(path);
    }

    private static String fileNameOf(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }
}
