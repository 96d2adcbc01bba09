package dev.fleet.migration.docker.archive;

import dev.fleet.migration.core.ArchiveInfo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Builds one archive (format version 2) in a single streaming pass: the manifest first, then
 * each part (the image, each volume's tree) straight into {@code <name>.tmp} in chunks of
 * {@link #CHUNK} bytes, each chunk its own tar entry {@code <part>/<8-digit sequence>} (a tar
 * header must state a size before the bytes, and a part's length is not known until it ends),
 * and last the trailer {@code index.json} with every part's size, the delta's deletions and the
 * sha256 of the bytes before it. Then the file is fsynced, renamed to its final name, and the
 * directory is fsynced: a crash leaves either no archive or a complete one, never a partial file
 * under the final name.
 *
 * <p>Nothing is spooled or read back: the sha256 (one running digest: the body's at the trailer,
 * the whole file's at the end) is computed on a second thread from the very buffers written, and
 * the file is written back to disk in the background while it grows, so the final fsync has only
 * the tail left. Memory stays bounded: one chunk and a few 1 MiB buffers.
 *
 * <p>Not thread-safe: one writer per archive.
 */
public final class ArchiveWriter implements AutoCloseable {

    /** Writes one part's bytes. */
    @FunctionalInterface
    public interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    /** The size of every chunk but a part's last. */
    public static final int CHUNK = 4 * 1024 * 1024;
    /** How much is written between two background writebacks. */
    private static final long WRITEBACK_EVERY = 64L * 1024 * 1024;
    /** The tar record the archive is padded to, as {@code TarArchiveOutputStream} pads it. */
    private static final int TAR_BLOCK = 10240;
    private static final int RECORD = 512;

    private final Path target;
    private final Path tmp;
    private final FileChannel channel;
    private final HashingChannelOutput out;
    private final List<ArchiveIndex.Entry> entries = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private final byte[] chunk;
    private final Manifest manifest;
    private boolean finished;

    /**
     * Starts {@code <target>.tmp} (replacing a leftover one) and writes the manifest into it.
     *
     * @param target   the archive's final path
     * @param manifest what it holds; the chunk size is filled in
     */
    public ArchiveWriter(Path target, Manifest manifest) {
        this(target, manifest, CHUNK);
    }

    ArchiveWriter(Path target, Manifest manifest, int chunkSize) {
        this.target = target;
        this.tmp = target.resolveSibling(target.getFileName() + ".tmp");
        this.manifest = manifest.withChunkSize(chunkSize);
        this.chunk = new byte[chunkSize];
        FileChannel ch = null;
        try {
            Files.deleteIfExists(tmp);
            ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            this.channel = ch;
            this.out = new HashingChannelOutput(ch, "archive", WRITEBACK_EVERY);
            byte[] json = this.manifest.toJson();
            out.write(header(Manifest.NAME, json.length));
            out.write(json);
            pad(out, json.length);
        } catch (IOException | RuntimeException e) {
            abandon(ch, e);
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new ArchiveException("could not start the archive " + target + ": " + e.getMessage(), e);
        }
    }

    /** Streams one part into the archive, returning what the index records of it. */
    public ArchiveIndex.Entry add(String entryName, Body body) {
        if (finished) {
            throw new IllegalStateException("the archive is finished");
        }
        if (!manifest.allows(entryName) || !names.add(entryName)) {
            throw new IllegalArgumentException("entry " + entryName + " is not declared by the manifest or is added twice");
        }
        Chunker chunker = new Chunker(entryName);
        try {
            body.writeTo(chunker);
            chunker.end();
        } catch (IOException e) {
            throw new ArchiveException("could not write archive part " + entryName + ": " + e.getMessage(), e);
        }
        ArchiveIndex.Entry entry = new ArchiveIndex.Entry(entryName, chunker.total, chunker.sequence);
        entries.add(entry);
        return entry;
    }

    /** Writes the index, ends the archive and puts it in place atomically. */
    public ArchiveInfo finish() {
        return finish(Map.of());
    }

    /**
     * Writes the index (with a delta's deletions), ends the archive and puts it in place
     * atomically.
     */
    public ArchiveInfo finish(Map<String, List<String>> deletions) {
        if (finished) {
            throw new IllegalStateException("finished twice");
        }
        finished = true;
        try {
            byte[] template = ArchiveIndex.template(entries, deletions);
            out.write(header(Manifest.INDEX, template.length));
            byte[] index = ArchiveIndex.fill(template, out.mark()); // the body: every byte up to here
            out.write(index);
            pad(out, index.length);
            out.write(new byte[2 * RECORD]); // end of archive
            long end = out.count();
            out.write(new byte[(int) ((TAR_BLOCK - end % TAR_BLOCK) % TAR_BLOCK)]);
            String sha = out.finish();
            long length = out.count();
            channel.force(true); // whatever the background writeback has not written yet
            channel.close();
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            fsyncDirectory(target.getParent());
            return new ArchiveInfo(target.toString(), length, sha);
        } catch (IOException | RuntimeException e) {
            abandon(channel, e);
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new ArchiveException("could not write the archive " + target + ": " + e.getMessage(), e);
        }
    }

    /** Cuts a part's stream into chunk entries; a part has at least one chunk, only its last may be short. */
    private final class Chunker extends OutputStream {
        private final String name;
        private int filled;
        private long total;
        private long sequence;

        Chunker(String name) {
            this.name = name;
        }

        @Override
        public void write(int b) throws IOException {
            if (filled == chunk.length) {
                emit();
            }
            chunk[filled++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            while (len > 0) {
                if (filled == chunk.length) {
                    emit();
                }
                int n = Math.min(len, chunk.length - filled);
                System.arraycopy(b, off, chunk, filled, n);
                filled += n;
                off += n;
                len -= n;
            }
        }

        private void emit() throws IOException {
            out.write(header(chunkName(name, sequence), filled));
            out.write(chunk, 0, filled);
            pad(out, filled);
            total += filled;
            sequence++;
            filled = 0;
        }

        void end() throws IOException {
            if (filled > 0 || sequence == 0) {
                emit();
            }
        }

        @Override
        public void close() {
            // the writer ends the part
        }
    }

    /** The tar entry name of a part's chunk. */
    static String chunkName(String entryName, long sequence) {
        return entryName + "/" + String.format(java.util.Locale.ROOT, "%08d", sequence);
    }

    /** The tar header (with a PAX header before it when the name needs one) of a regular entry. */
    static byte[] header(String name, long size) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(RECORD * 3);
        // a block size of one record: the header reaches `bytes` at once, no data is expected after it
        TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes, RECORD, StandardCharsets.UTF_8.name());
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(size);
        e.setMode(0100600);
        e.setUserName("");
        e.setGroupName("");
        e.setUserId(0L);
        e.setGroupId(0L);
        e.setModTime(0L);
        tar.putArchiveEntry(e);
        byte[] header = bytes.toByteArray();
        if (header.length == 0 || header.length % RECORD != 0) {
            throw new IOException("unexpected tar header length " + header.length + " for " + name);
        }
        return header;
    }

    private static void pad(OutputStream out, long size) throws IOException {
        int rest = (int) (size % RECORD);
        if (rest != 0) {
            out.write(new byte[RECORD - rest]);
        }
    }

    /** Makes a rename durable. */
    public static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some filesystems refuse fsync on a directory; the file itself was forced
        }
    }

    private void abandon(FileChannel ch, Exception cause) {
        if (out != null) {
            out.close();
        }
        try {
            if (ch != null) {
                ch.close();
            }
            Files.deleteIfExists(tmp);
        } catch (IOException cleanup) {
            cause.addSuppressed(cleanup);
        }
    }

    /** Removes the unfinished {@code .tmp} file unless {@link #finish} put the archive in place. */
    @Override
    public void close() {
        if (!finished) {
            finished = true;
            abandon(channel, new ArchiveException("abandoned"));
        }
    }
}
