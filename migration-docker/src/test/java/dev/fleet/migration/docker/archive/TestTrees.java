package dev.fleet.migration.docker.archive;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Volume trees the tests migrate: many small odd files, and one big file. */
public final class TestTrees {
    private TestTrees() {}

    /**
     * {@code count} small files in 100 directories, every 10th owned by uid/gid 1000, plus
     * symlinks, hardlinks, a sparse file, odd and UTF-8 names, an empty and a read-only
     * directory, and modes other than the default. Uses {@link ArchiveRoundTripTest#oddTree}.
     */
    public static void smallFiles(Path root, int count) throws IOException {
        ArchiveRoundTripTest.oddTree(root);
        int perDir = Math.max(1, count / 100);
        int made = 0;
        for (int d = 0; made < count; d++) {
            Path dir = Files.createDirectories(root.resolve(String.format("d%02d", d)));
            for (int f = 0; f < perDir && made < count; f++, made++) {
                Path p = dir.resolve(String.format("f%03d.txt", f));
                Files.writeString(p, ("file " + d + "/" + f + "\n").repeat(f % 7 + 1));
                if (made % 10 == 0) {
                    Files.setAttribute(p, "unix:uid", 1000);
                    Files.setAttribute(p, "unix:gid", 1000);
                }
                if (made % 13 == 0) {
                    Files.setAttribute(p, "unix:mode", 0600);
                }
                if (made % 500 == 0) {
                    Files.createSymbolicLink(dir.resolve("link-" + f), Path.of(p.getFileName().toString()));
                    Files.createLink(dir.resolve("hard-" + f), p);
                }
            }
        }
    }

    /** One file of {@code bytes} pseudo-random bytes (seeded, so two runs write the same). */
    public static void bigFile(Path file, long bytes) throws IOException {
        SplittableRandom random = new SplittableRandom(7);
        byte[] buf = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long done = 0; done < bytes; done += buf.length) {
                for (int i = 0; i < buf.length; i += 8) {
                    long v = random.nextLong();
                    for (int k = 0; k < 8; k++) {
                        buf[i + k] = (byte) (v >>> (8 * k));
                    }
                }
                out.write(buf, 0, (int) Math.min(buf.length, bytes - done));
            }
        }
    }

    public static void sparse(Path file, long length) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(length / 2);
            f.write("x".getBytes(StandardCharsets.UTF_8));
            f.setLength(length);
        }
    }
}
