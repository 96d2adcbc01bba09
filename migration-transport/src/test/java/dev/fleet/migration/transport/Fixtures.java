package dev.fleet.migration.transport;

import dev.fleet.migration.core.contract.TransportContract;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Large inputs made once per test JVM and shared by every integration test: a 1 GiB file,
 * 200 MiB and 128 MiB files, 10,000 small files. Deterministic content, so their sha256 is
 * computed once.
 */
final class Fixtures {
    static final long GIB = 1L << 30;
    static final long MIB = 1L << 20;
    private static final Path ROOT = Path.of(System.getProperty("java.io.tmpdir"), "fleet-transport-fixtures");
    private static final Map<String, String> SHA = new ConcurrentHashMap<>();

    private Fixtures() {}

    static synchronized Path file(long size) {
        try {
            Files.createDirectories(ROOT);
            Path p = ROOT.resolve("random-" + size + ".bin");
            if (!Files.exists(p) || Files.size(p) != size) {
                TransportContract.randomFile(p, size, size);
            }
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha256(Path p) {
        return SHA.computeIfAbsent(p.toString(), k -> {
            try {
                return TransportContract.sha256(p);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** 10,000 files of 0 to 2 KiB in 100 directories. */
    static synchronized Path tenThousandFiles() {
        try {
            Path dir = ROOT.resolve("ten-thousand");
            Path done = ROOT.resolve("ten-thousand.done");
            if (!Files.exists(done)) {
                for (int d = 0; d < 100; d++) {
                    Path sub = Files.createDirectories(dir.resolve("d" + d));
                    for (int f = 0; f < 100; f++) {
                        int i = d * 100 + f;
                        TransportContract.randomFile(sub.resolve("f" + i), (i * 211L) % 2048, i);
                    }
                }
                Files.createFile(done);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A sparse file far larger than any free space here: only its size is ever looked at. */
    static Path hugeSparseFile(Path dir) {
        try {
            Path p = dir.resolve("huge.bin");
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                f.setLength(4L << 40);
            }
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Asserts two trees hold the same files with the same sha256. */
    static void assertSameTree(Path expected, Path actual) throws IOException {
        try (var walk = Files.walk(expected)) {
            for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                Path other = actual.resolve(expected.relativize(p).toString());
                if (!Files.isRegularFile(other)) {
                    throw new AssertionError("missing on the target: " + other);
                }
                if (!TransportContract.sha256(p).equals(TransportContract.sha256(other))) {
                    throw new AssertionError("sha256 differs: " + other);
                }
            }
        }
        try (var a = Files.walk(expected); var b = Files.walk(actual)) {
            long ca = a.count();
            long cb = b.count();
            if (ca != cb) {
                throw new AssertionError("the trees hold " + ca + " and " + cb + " entries");
            }
        }
    }
}
