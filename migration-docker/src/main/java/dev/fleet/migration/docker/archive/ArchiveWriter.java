package dev.fleet.migration.docker.archive;

import dev.fleet.migration.core.ArchiveInfo;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Builds one archive. Each part (the image, each volume) is first streamed to a spool file in
 * the archive directory while its size and sha256 are computed, because the manifest, which
 * comes first, must name them; then the archive is assembled as {@code <name>.tmp}, fsynced,
 * renamed to its final name, and the directory is fsynced. A crash leaves either no archive or
 * a complete one, never a partial file under the final name.
 *
 * <p>Not thread-safe: one writer per archive.
 */
public final class ArchiveWriter implements AutoCloseable {

    /** Writes one part's bytes. */
    @FunctionalInterface
    public interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    private static final int BUFFER = 1024 * 1024;

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
        MessageDigest sha = Digests.sha256();
        long size;
        try (OutputStream raw = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             CountingOutputStream counting = new CountingOutputStream(
                     new DigestOutputStream(new BufferedOutputStream(raw, BUFFER), sha))) {
            body.writeTo(counting);
            counting.flush();
            size = counting.count;
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
        Manifest.Entry entry = new Manifest.Entry(entryName, size, Digests.hex(sha));
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
        MessageDigest sha = Digests.sha256();
        byte[] json = manifest.withEntries(entries).toJson();
        try {
            Files.deleteIfExists(tmp);
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                 OutputStream fileOut = java.nio.channels.Channels.newOutputStream(channel);
                 DigestOutputStream out = new DigestOutputStream(new BufferedOutputStream(fileOut, BUFFER), sha)) {
                TarArchiveOutputStream tar = new TarArchiveOutputStream(new VolumeTarWriter.NonClosing(out), 10240,
                        StandardCharsets.UTF_8.name());
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                put(tar, Manifest.NAME, json.length);
                tar.write(json);
                tar.closeArchiveEntry();
                byte[] buf = new byte[BUFFER];
                for (int i = 0; i < entries.size(); i++) {
                    put(tar, entries.get(i).name(), entries.get(i).size());
                    try (var in = Files.newInputStream(files.get(i))) {
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            tar.write(buf, 0, n);
                            copied.accept(n);
                        }
                    }
                    tar.closeArchiveEntry();
                    Files.delete(files.get(i)); // frees the spool space as we go
                }
                tar.finish();
                out.flush();
                channel.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            fsyncDirectory(target.getParent());
            return new ArchiveInfo(target.toString(), Files.size(target), Digests.hex(sha));
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // best effort; the next attempt removes it first
            }
            throw new ArchiveException("could not write the archive " + target + ": " + e.getMessage(), e);
        }
    }

    private static void put(TarArchiveOutputStream tar, String name, long size) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(size);
        e.setMode(0100600);
        e.setUserName("");
        e.setGroupName("");
        e.setUserId(0L);
        e.setGroupId(0L);
        tar.putArchiveEntry(e);
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

    private static final class CountingOutputStream extends java.io.FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
