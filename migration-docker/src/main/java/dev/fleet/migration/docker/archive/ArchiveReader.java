package dev.fleet.migration.docker.archive;

import dev.fleet.migration.core.Names;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongConsumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Reads an archive in one streaming pass, verifying as it goes: {@code manifest.json} must come
 * first; then exactly the entries it lists, in its order, each with the size it states; nothing
 * after them; and the sha256s: when the caller expects a whole-file sha256 (the one the source
 * recorded), the whole file's, computed on a second thread from the very bytes read; otherwise
 * each entry's against the manifest. Any mismatch, unknown entry, truncation or garbage refuses
 * the whole archive, and nothing is returned before every check passed: a handler writes only
 * into staging (or, for a delta, only after {@link #verify} passed).
 *
 * <p>Entries are handed to a {@link Handler} while they stream. {@link #extract} is the
 * handler the restore uses: into a staging directory only, removed again on refusal.
 */
public final class ArchiveReader {

    /** Receives the entries' bytes while they stream; must not close the streams. */
    public interface Handler {
        default void manifest(Manifest manifest) {}

        void image(InputStream data) throws IOException;

        void volume(String name, InputStream data) throws IOException;

        /** A container's filesystem as {@code docker export} wrote it (the fallback to the image). */
        default void rootfs(String container, InputStream data) throws IOException {}
    }

    /** A verified archive: its manifest and the sha256 of the whole file. */
    public record Verified(Manifest manifest, String sha256, long size) {}

    private static final int MAX_MANIFEST = 64 * 1024 * 1024;

    private ArchiveReader() {}

    /** Reads and verifies without keeping anything. */
    public static Verified verify(Path archive, Optional<String> expectedSha256) {
        return read(archive, expectedSha256, new Handler() {
            @Override
            public void image(InputStream data) {}

            @Override
            public void volume(String name, InputStream data) {}
        });
    }

    /**
     * Verifies and extracts into {@code staging}: {@code image.tar} and {@code volumes/<name>/}
     * (each volume's tree, checked entry by entry). {@code staging} is recreated empty first; on
     * refusal it is removed, so nothing of the archive remains anywhere.
     */
    public static Verified extract(Path archive, Optional<String> expectedSha256, Path staging, LongConsumer progress) {
        try {
            VolumeTarExtractor.removeTree(staging);
            Files.createDirectories(staging.resolve("volumes"));
        } catch (IOException e) {
            throw new ArchiveException("could not prepare staging " + staging + ": " + e.getMessage(), e);
        }
        try {
            return read(archive, expectedSha256, new Handler() {
                @Override
                public void image(InputStream data) throws IOException {
                    try (OutputStream out = Files.newOutputStream(staging.resolve(Manifest.IMAGE_ENTRY),
                            StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                        data.transferTo(out);
                    }
                }

                @Override
                public void rootfs(String container, InputStream data) throws IOException {
                    Path dir = Files.createDirectories(staging.resolve("rootfs"));
                    try (OutputStream out = Files.newOutputStream(dir.resolve(container + ".tar"),
                            StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                        data.transferTo(out);
                    }
                }

                @Override
                public void volume(String name, InputStream data) throws IOException {
                    Path root = staging.resolve("volumes").resolve(name);
                    Files.createDirectory(root);
                    new VolumeTarExtractor(root, VolumeTarExtractor.Mode.FRESH, "volume " + name, progress)
                            .extract(data);
                }
            });
        } catch (RuntimeException e) {
            try {
                VolumeTarExtractor.removeTree(staging);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** Reads, verifies and hands each entry to {@code handler}. */
    public static Verified read(Path archive, Optional<String> expectedSha256, Handler handler) {
        String where = "archive " + archive.getFileName();
        // With an expected whole-file sha256, that one check covers every byte (the manifest with
        // its per-entry sha256s included), so hashing each entry again would prove nothing more.
        // Without one, each entry is checked against the manifest.
        boolean perEntry = expectedSha256.isEmpty();
        try (FileChannel file = FileChannel.open(archive, StandardOpenOption.READ);
             HashingChannelInput hashed = new HashingChannelInput(file, "read")) {
            TarArchiveInputStream tar = new TarArchiveInputStream(hashed, StandardCharsets.UTF_8.name());
            TarArchiveEntry first = tar.getNextEntry();
            if (first == null) {
                throw new ArchiveException("refused the " + where + ": it is empty (no manifest.json)");
            }
            if (!first.getName().equals(Manifest.NAME) || !first.isFile() || first.getSize() > MAX_MANIFEST) {
                throw new ArchiveException("refused the " + where + ": the first entry must be manifest.json of at most "
                        + MAX_MANIFEST + " bytes, but was " + Names.quote(first.getName()));
            }
            byte[] json = tar.readNBytes((int) first.getSize());
            if (json.length != first.getSize()) {
                throw new ArchiveException("refused the " + where + ": it is truncated inside manifest.json");
            }
            Manifest manifest = Manifest.parse(json);
            handler.manifest(manifest);
            for (Manifest.Entry expected : manifest.entries()) {
                TarArchiveEntry e = tar.getNextEntry();
                if (e == null) {
                    throw new ArchiveException("refused the " + where + ": it is truncated (entry "
                            + Names.quote(expected.name()) + " is missing)");
                }
                if (!e.getName().equals(expected.name()) || e.getLinkFlag() != org.apache.commons.compress.archivers
                        .tar.TarConstants.LF_NORMAL && e.getLinkFlag() != org.apache.commons.compress.archivers
                        .tar.TarConstants.LF_OLDNORM) {
                    throw new ArchiveException("refused the " + where + ": expected the regular entry "
                            + Names.quote(expected.name()) + " but found " + Names.quote(e.getName()));
                }
                if (e.getSize() != expected.size()) {
                    throw new ArchiveException("refused the " + where + ": entry " + Names.quote(expected.name())
                            + " is " + e.getSize() + " bytes, the manifest says " + expected.size());
                }
                MessageDigest sha = perEntry ? Digests.sha256() : null;
                Counting counted = new Counting(sha == null ? new NonClosing(tar)
                        : new DigestInputStream(new NonClosing(tar), sha));
                String volume = Manifest.volumeOf(expected.name());
                String rootfs = Manifest.rootfsOf(expected.name());
                if (volume != null) {
                    handler.volume(volume, counted);
                } else if (rootfs != null) {
                    handler.rootfs(rootfs, counted);
                } else {
                    handler.image(counted);
                }
                counted.transferTo(OutputStream.nullOutputStream()); // the rest (tar padding) counts too
                if (counted.count != expected.size()) {
                    throw new ArchiveException("refused the " + where + ": it is truncated inside entry "
                            + Names.quote(expected.name()) + " (" + counted.count + " of " + expected.size() + " bytes)");
                }
                String got = sha == null ? expected.sha256() : Digests.hex(sha);
                if (!got.equals(expected.sha256())) {
                    throw new ArchiveException("refused the " + where + ": entry " + Names.quote(expected.name())
                            + " has sha256 " + got + ", the manifest says " + expected.sha256());
                }
            }
            TarArchiveEntry extra = tar.getNextEntry();
            if (extra != null) {
                throw new ArchiveException("refused the " + where + ": entry " + Names.quote(extra.getName())
                        + " is not listed in the manifest");
            }
            String sha256 = hashed.finish(); // the end-of-archive records count too
            if (expectedSha256.isPresent() && !expectedSha256.get().equals(sha256)) {
                throw new ArchiveException("refused the " + where + ": its sha256 is " + sha256 + " but "
                        + expectedSha256.get() + " was expected");
            }
            return new Verified(manifest, sha256, Files.size(archive));
        } catch (ArchiveException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new ArchiveException("refused the " + where + ": it is unreadable or truncated (" + e.getMessage() + ")",
                    e);
        }
    }

    /** Applies a verified delta onto live volume roots (volumes not in {@code roots} are refused). */
    public static Verified applyDelta(Path delta, Map<String, Path> roots, LongConsumer progress) {
        return read(delta, Optional.empty(), new Handler() {
            @Override
            public void manifest(Manifest manifest) {
                if (!Manifest.KIND_DELTA.equals(manifest.kind())) {
                    throw new ArchiveException("refused the delta " + delta.getFileName() + ": its kind is "
                            + manifest.kind());
                }
                for (var d : manifest.deletions().entrySet()) {
                    Path root = root(d.getKey());
                    for (String rel : d.getValue()) {
                        deleteInside(root, rel);
                    }
                }
            }

            @Override
            public void image(InputStream data) {
                throw new ArchiveException("refused the delta " + delta.getFileName() + ": it holds an image");
            }

            @Override
            public void rootfs(String container, InputStream data) {
                image(data);
            }

            @Override
            public void volume(String name, InputStream data) {
                new VolumeTarExtractor(root(name), VolumeTarExtractor.Mode.OVERLAY, "volume " + name, progress)
                        .extract(data);
            }

            private Path root(String volume) {
                Path root = roots.get(volume);
                if (root == null) {
                    throw new ArchiveException("refused the delta " + delta.getFileName() + ": volume "
                            + Names.quote(volume) + " was not restored by this migration");
                }
                return root;
            }
        });
    }

    /** Deletes one path named by a delta, only when it lies inside {@code root} and below no symlink. */
    static void deleteInside(Path root, String rel) {
        String clean = VolumeTarExtractor.relativeName(rel);
        if (clean.isEmpty()) {
            throw new ArchiveException("refused the delta: it deletes the volume root");
        }
        try {
            Path real = root.toRealPath();
            Path target = real.resolve(clean).normalize();
            Path current = real;
            for (Path part : real.relativize(target.getParent() == null ? real : target.getParent())) {
                current = current.resolve(part);
                if (!Files.isDirectory(current, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    return; // a parent is gone or is a link: nothing of ours to delete there
                }
            }
            VolumeTarExtractor.removeTree(target);
        } catch (IOException e) {
            throw new ArchiveException("could not delete " + Names.quote(rel) + ": " + e.getMessage(), e);
        }
    }

    private static final class NonClosing extends FilterInputStream {
        NonClosing(InputStream in) {
            super(in);
        }

        @Override
        public void close() {}
    }

    private static final class Counting extends FilterInputStream {
        long count;

        Counting(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            // read, never skip: skipped bytes would bypass the digest
            byte[] buf = new byte[(int) Math.min(n, 64 * 1024)];
            long done = 0;
            while (done < n) {
                int r = read(buf, 0, (int) Math.min(buf.length, n - done));
                if (r < 0) {
                    break;
                }
                done += r;
            }
            return done;
        }

        @Override
        public void close() {}
    }
}
