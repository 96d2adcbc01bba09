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
import java.util.List;
import java.util.function.LongConsumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Builds one archive. Each part (the image, each volume) is first streamed to a spool file in
 * the archive directory while its size and sha256 are computed, because the manifest, which
 * comes first, must name them, and a tar header must state its entry's size before the bytes;
 * then the archive is assembled as {@code <name>.tmp}, fsynced once, renamed to its final name,
 * and the directory is fsynced. A crash leaves either no archive or a complete one, never a
 * partial file under the final name.
 *
 * <p>Every sha256 is computed on a second thread from the very buffers that are written (the
 * part's while it is spooled, the whole file's while it is assembled), so hashing overlaps the
 * I/O and no file is ever read back to be hashed. Memory stays bounded: a few 1 MiB buffers.
 *
 * <p>Not thread-safe: one writer per archive.
 */
public final class ArchiveWriter implements AutoCloseable {

    /** Writes one part's bytes. */
    @FunctionalInterface
    public interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    /** The tar record the archive is padded to, as {@code TarArchiveOutputStream} pads it. */
    private static final int TAR_BLOCK = 10240;
    private static final int RECORD = 512;

    private final Path spool;
    private final List<Manifest.Entry> entries = new ArrayList<>();
    private final List<Path> files = new ArrayList<>();

    /** @param spool a directory for the parts; created, and removed by {@link #close()} */
    public ArchiveWriter(Path spool) {
        this.spool = spool;
        try {
            VolumeTarExtractor.removeTree(spool);
            Files.createDirectories(spool);
        } catch (IOException e) {
            throw new ArchiveException("could not create the spool directory " + spool + ": " + e.getMessage(), e);
        }
    }

    /** Streams one part to the spool, returning its manifest entry. */
    public Manifest.Entry add(String entryName, Body body) {
        Path file = spool.resolve("part-" + files.size());
        long size;
        String sha;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             HashingChannelOutput out = new HashingChannelOutput(channel, "part")) {
            body.writeTo(out);
            sha = out.finish();
            size = out.count();
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(file); // a failed part leaves nothing, so the writer can go on
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new ArchiveException("could not write archive part " + entryName + ": " + e.getMessage(), e);
        }
        Manifest.Entry entry = new Manifest.Entry(entryName, size, sha);
        entries.add(entry);
        files.add(file);
        return entry;
    }

    /**
     * Writes manifest and parts into {@code target} atomically.
     *
     * @param manifest the manifest without entries; the spooled parts' entries are filled in
     * @param copied   receives the byte counts copied into the archive
     */
    public ArchiveInfo finish(Manifest manifest, Path target, LongConsumer copied) {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        byte[] json = manifest.withEntries(entries).toJson();
        try {
            Files.deleteIfExists(tmp);
            String sha;
            long length;
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                 HashingChannelOutput out = new HashingChannelOutput(channel, "archive")) {
                out.write(header(Manifest.NAME, json.length));
                out.write(json);
                pad(out, json.length);
                for (int i = 0; i < entries.size(); i++) {
                    Manifest.Entry entry = entries.get(i);
                    out.write(header(entry.name(), entry.size()));
                    try (FileChannel part = FileChannel.open(files.get(i), StandardOpenOption.READ)) {
                        out.copyFrom(part, entry.size(), copied);
                    }
                    pad(out, entry.size());
                    Files.delete(files.get(i)); // frees the spool space as we go
                }
                out.write(new byte[2 * RECORD]); // end of archive
                long end = out.count();
                out.write(new byte[(int) ((TAR_BLOCK - end % TAR_BLOCK) % TAR_BLOCK)]);
                sha = out.finish();
                length = out.count();
                channel.force(true); // once, for the whole file
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            fsyncDirectory(target.getParent());
            return new ArchiveInfo(target.toString(), length, sha);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // best effort; the next attempt removes it first
            }
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new ArchiveException("could not write the archive " + target + ": " + e.getMessage(), e);
        }
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

    @Override
    public void close() {
        try {
            VolumeTarExtractor.removeTree(spool);
        } catch (IOException e) {
            throw new ArchiveException("could not remove the spool directory " + spool + ": " + e.getMessage(), e);
        }
    }
}
