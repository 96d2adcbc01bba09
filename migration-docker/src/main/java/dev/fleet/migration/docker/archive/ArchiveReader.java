package dev.fleet.migration.docker.archive;

import dev.fleet.migration.core.Names;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongConsumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Reads an archive (format version 2) in one streaming pass, verifying as it goes:
 * {@code manifest.json} must come first; then only entries the manifest declares, each once, in
 * chunks named {@code <entry>/<sequence>} that follow each other without a gap, none larger than
 * the manifest's chunk size and only an entry's last one short; then {@code index.json}, which
 * must list exactly the entries seen with their sizes, and whose {@code bodySha256} must be the
 * sha256 of every byte before its data; nothing after it; and, when the caller expects a
 * whole-file sha256 (the one the source recorded), the whole file's. One running digest,
 * computed on a second thread from the very bytes read, serves both checks. Any mismatch,
 * unknown entry, truncation or garbage refuses the whole archive, and nothing is returned before
 * every check passed: a handler writes only into staging (or, for a delta, only after
 * {@link #verify} passed).
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

    /** A verified archive: its manifest, its index, and the sha256 and size of the whole file. */
    public record Verified(Manifest manifest, ArchiveIndex index, String sha256, long size) {}

    /** The most a reader accepts for manifest.json: it is read into memory. */
    static final int MAX_MANIFEST = 4 * 1024 * 1024;

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
     * Verifies and extracts into {@code staging}: {@code image.tar}, {@code rootfs/<c>.tar} and
     * {@code volumes/<name>/} (each volume's tree, checked entry by entry). {@code staging} is
     * recreated empty first; on refusal it is removed, so nothing of the archive remains anywhere.
     */
    public static Verified extract(Path archive, Optional<String> expectedSha256, Path staging, LongConsumer progress) {
        return extractWith(staging, handler -> read(archive, expectedSha256, handler), progress);
    }

    private static Verified extractWith(Path staging, java.util.function.Function<Handler, Verified> reader,
                                        LongConsumer progress) {
        try {
            VolumeTarExtractor.removeTree(staging);
            Files.createDirectories(staging.resolve("volumes"));
        } catch (IOException e) {
            throw new ArchiveException("could not prepare staging " + staging + ": " + e.getMessage(), e);
        }
        try {
            return reader.apply(new Handler() {
                @Override
                public void image(InputStream data) throws IOException {
                    try {
                        copy(data, staging.resolve(Manifest.IMAGE_ENTRY), progress);
                    } catch (IOException e) {
                        throw noSpaceOr(e, "the image " + Manifest.IMAGE_ENTRY, staging);
                    }
                }

                @Override
                public void rootfs(String container, InputStream data) throws IOException {
                    try {
                        Path dir = Files.createDirectories(staging.resolve("rootfs"));
                        copy(data, dir.resolve(container + ".tar"), progress);
                    } catch (IOException e) {
                        throw noSpaceOr(e, "the filesystem of container " + Names.quote(container), staging);
                    }
                }

                @Override
                public void volume(String name, InputStream data) throws IOException {
                    Path root = staging.resolve("volumes").resolve(name);
                    try {
                        Files.createDirectory(root);
                    } catch (IOException e) {
                        throw noSpaceOr(e, "volume " + Names.quote(name), staging);
                    }
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

    /**
     * A write into staging that found no space becomes a {@link NoSpaceException} (the reader
     * passes an {@link ArchiveException} through as it is, instead of calling the archive
     * unreadable); any other I/O error stays what it was.
     */
    private static IOException noSpaceOr(IOException e, String what, Path staging) {
        if (NoSpaceException.causedBy(e)) {
            throw new NoSpaceException(what, staging, e);
        }
        return e;
    }

    private static void copy(InputStream data, Path file, LongConsumer progress) throws IOException {
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] buffer = new byte[256 * 1024];
            int n;
            while ((n = data.read(buffer)) > 0) {
                out.write(buffer, 0, n);
                progress.accept(n);
            }
        }
    }

    /** {@link #extract(Path, Optional, Path, LongConsumer)} from any channel (tests feed generated archives). */
    static Verified extract(ReadableByteChannel source, String where, Optional<String> expectedSha256, Path staging,
                            LongConsumer progress) {
        return extractWith(staging, handler -> read(source, where, expectedSha256, handler), progress);
    }

    /** Reads, verifies and hands each entry to {@code handler}. */
    public static Verified read(Path archive, Optional<String> expectedSha256, Handler handler) {
        try (FileChannel file = FileChannel.open(archive, StandardOpenOption.READ)) {
            return read(file, "archive " + archive.getFileName(), expectedSha256, handler);
        } catch (IOException e) {
            throw new ArchiveException("refused the archive " + archive.getFileName() + ": it cannot be read ("
                    + e.getMessage() + ")", e);
        }
    }

    /** Reads, verifies and hands each entry to {@code handler}; {@code where} names the archive in messages. */
    static Verified read(ReadableByteChannel source, String where, Optional<String> expectedSha256, Handler handler) {
        try (HashingChannelInput hashed = new HashingChannelInput(source, "read")) {
            TarArchiveInputStream tar = new TarArchiveInputStream(new TarHeaderGuard(hashed, where),
                    StandardCharsets.UTF_8.name());
            TarArchiveEntry first = tar.getNextEntry();
            if (first == null) {
                throw new ArchiveException("refused the " + where + ": it is empty (no manifest.json)");
            }
            if (!first.getName().equals(Manifest.NAME) || !regular(first) || first.getSize() > MAX_MANIFEST) {
                throw new ArchiveException("refused the " + where + ": the first entry must be manifest.json of at most "
                        + MAX_MANIFEST + " bytes, but was " + Names.quote(first.getName()) + " of " + first.getSize()
                        + " bytes");
            }
            byte[] json = tar.readNBytes((int) first.getSize());
            if (json.length != first.getSize()) {
                throw new ArchiveException("refused the " + where + ": it is truncated inside manifest.json");
            }
            Manifest manifest = Manifest.parse(json);
            handler.manifest(manifest);
            List<ArchiveIndex.Entry> seen = new ArrayList<>();
            Set<String> names = new HashSet<>();
            TarArchiveEntry e = tar.getNextEntry();
            while (e != null && !e.getName().equals(Manifest.INDEX)) {
                String name = entryOf(e.getName());
                if (name == null || !manifest.allows(name)) {
                    throw new ArchiveException("refused the " + where + ": entry " + Names.quote(e.getName())
                            + " is not a chunk of image.tar, volumes/<declared volume>.tar or rootfs/<declared "
                            + "container>.tar");
                }
                if (!names.add(name)) {
                    throw new ArchiveException("refused the " + where + ": entry " + Names.quote(name)
                            + " appears twice");
                }
                Chunks chunks = new Chunks(tar, e, name, manifest.chunkSize(), where);
                String volume = Manifest.volumeOf(name);
                String rootfs = Manifest.rootfsOf(name);
                if (volume != null) {
                    handler.volume(volume, chunks);
                } else if (rootfs != null) {
                    handler.rootfs(rootfs, chunks);
                } else {
                    handler.image(chunks);
                }
                chunks.drain(); // what the handler did not read (tar end padding) counts too
                seen.add(new ArchiveIndex.Entry(name, chunks.total, chunks.count));
                e = chunks.next;
            }
            if (e == null) {
                throw new ArchiveException("refused the " + where + ": it is truncated (index.json is missing)");
            }
            if (!regular(e) || e.getSize() > ArchiveIndex.MAX_SIZE) {
                throw new ArchiveException("refused the " + where + ": index.json must be a regular entry of at most "
                        + ArchiveIndex.MAX_SIZE + " bytes, but is " + e.getSize() + " bytes");
            }
            String body = hashed.mark(); // every byte before index.json's data
            byte[] indexJson = tar.readNBytes((int) e.getSize());
            if (indexJson.length != e.getSize()) {
                throw new ArchiveException("refused the " + where + ": it is truncated inside index.json");
            }
            ArchiveIndex index = ArchiveIndex.parse(indexJson, manifest);
            if (!index.entries().equals(seen)) {
                throw new ArchiveException("refused the " + where + ": index.json lists " + describe(index.entries())
                        + " but the archive holds " + describe(seen));
            }
            for (Manifest.VolumeSpec v : manifest.volumes()) {
                if (!names.contains(v.entry())) {
                    throw new ArchiveException("refused the " + where + ": volume " + Names.quote(v.name())
                            + " is declared but its entry " + v.entry() + " is missing");
                }
            }
            if (!index.bodySha256().equals(body)) {
                throw new ArchiveException("refused the " + where + ": its content has sha256 " + body
                        + " but index.json says " + index.bodySha256());
            }
            TarArchiveEntry extra = tar.getNextEntry();
            if (extra != null) {
                throw new ArchiveException("refused the " + where + ": entry " + Names.quote(extra.getName())
                        + " follows index.json");
            }
            long size = hashed.consumed();
            String sha256 = hashed.finish(); // the end-of-archive records count too
            size = Math.max(size, hashed.consumed());
            if (expectedSha256.isPresent() && !expectedSha256.get().equals(sha256)) {
                throw new ArchiveException("refused the " + where + ": its sha256 is " + sha256 + " but "
                        + expectedSha256.get() + " was expected");
            }
            return new Verified(manifest, index, sha256, size);
        } catch (ArchiveException e) {
            throw e;
        } catch (dev.fleet.migration.core.MigrationException e) {
            throw new ArchiveException("refused the " + where + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw new ArchiveException("refused the " + where + ": it is unreadable or truncated (" + e.getMessage() + ")",
                    e);
        }
    }

    private static boolean regular(TarArchiveEntry e) {
        return e.getLinkFlag() == TarConstants.LF_NORMAL || e.getLinkFlag() == TarConstants.LF_OLDNORM;
    }

    private static String describe(List<ArchiveIndex.Entry> entries) {
        StringBuilder sb = new StringBuilder("[");
        for (ArchiveIndex.Entry e : entries.subList(0, Math.min(entries.size(), 5))) {
            sb.append(sb.length() > 1 ? ", " : "").append(Names.quote(e.name())).append(' ').append(e.size())
                    .append(" bytes in ").append(e.chunks()).append(" chunks");
        }
        return sb.append(entries.size() > 5 ? ", ...]" : "]").toString();
    }

    /** The part a chunk entry belongs to ({@code volumes/data.tar} of {@code volumes/data.tar/00000003}), or null. */
    static String entryOf(String chunkName) {
        int slash = chunkName.lastIndexOf('/');
        if (slash <= 0 || chunkName.length() - slash - 1 != 8) {
            return null;
        }
        for (int i = slash + 1; i < chunkName.length(); i++) {
            if (chunkName.charAt(i) < '0' || chunkName.charAt(i) > '9') {
                return null;
            }
        }
        return chunkName.substring(0, slash);
    }

    /**
     * One part's bytes: its chunks, read in sequence as one stream. Reading past a chunk reads
     * the next tar header; the first that is not this part's next chunk ends the part and is
     * kept in {@link #next}.
     */
    private static final class Chunks extends InputStream {
        private final TarArchiveInputStream tar;
        private final String name;
        private final int chunkSize;
        private final String where;
        private TarArchiveEntry current;
        private long left;
        long total;
        long count;
        TarArchiveEntry next;
        private boolean ended;

        Chunks(TarArchiveInputStream tar, TarArchiveEntry first, String name, int chunkSize, String where) {
            this.tar = tar;
            this.name = name;
            this.chunkSize = chunkSize;
            this.where = where;
            start(first);
        }

        private void start(TarArchiveEntry e) {
            String expected = ArchiveWriter.chunkName(name, count);
            if (!e.getName().equals(expected)) {
                throw new ArchiveException("refused the " + where + ": expected the chunk " + Names.quote(expected)
                        + " but found " + Names.quote(e.getName()));
            }
            if (!regular(e)) {
                throw new ArchiveException("refused the " + where + ": chunk " + Names.quote(e.getName())
                        + " is not a regular entry");
            }
            if (e.getSize() > chunkSize) {
                throw new ArchiveException("refused the " + where + ": chunk " + Names.quote(e.getName()) + " declares "
                        + e.getSize() + " bytes, more than the chunk size " + chunkSize);
            }
            current = e;
            left = e.getSize();
            count++;
        }

        /** Moves to the next chunk of this part; false at the part's end. */
        private boolean advance() throws IOException {
            if (ended) {
                return false;
            }
            TarArchiveEntry e = tar.getNextEntry();
            if (e != null && name.equals(entryOf(e.getName()))) {
                if (current.getSize() != chunkSize) {
                    throw new ArchiveException("refused the " + where + ": chunk " + Names.quote(current.getName())
                            + " is " + current.getSize() + " bytes, short of the chunk size " + chunkSize
                            + ", but is not its part's last");
                }
                start(e);
                return true;
            }
            next = e;
            ended = true;
            return false;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            while (left == 0) {
                if (!advance()) {
                    return -1;
                }
            }
            int n = tar.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new ArchiveException("refused the " + where + ": it is truncated inside chunk "
                        + Names.quote(current.getName()) + " (" + (current.getSize() - left) + " of "
                        + current.getSize() + " bytes)");
            }
            left -= n;
            total += n;
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            // read, never skip: every byte is hashed and counted
            byte[] buf = new byte[(int) Math.min(Math.max(n, 1), 64 * 1024)];
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

        /** Reads what is left of this part. */
        void drain() throws IOException {
            byte[] buf = new byte[64 * 1024];
            while (read(buf, 0, buf.length) >= 0) {
                // counted
            }
        }

        @Override
        public void close() {
            // the reader owns the stream
        }
    }

    /**
     * Verifies a delta completely (a first pass that writes nothing), then applies it onto live
     * volume roots (volumes not in {@code roots} are refused): its deletions first, then its
     * entries, verified again as they stream.
     */
    public static Verified applyDelta(Path delta, Map<String, Path> roots, LongConsumer progress) {
        Verified verified = verify(delta, Optional.empty());
        if (!Manifest.KIND_DELTA.equals(verified.manifest().kind())) {
            throw new ArchiveException("refused the delta " + delta.getFileName() + ": its kind is "
                    + verified.manifest().kind());
        }
        return read(delta, Optional.of(verified.sha256()), new Handler() {
            @Override
            public void manifest(Manifest manifest) {
                for (var d : verified.index().deletions().entrySet()) {
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
}
