package dev.fleet.migration.docker.archive;

import dev.fleet.migration.core.Names;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Writes a volume's tree as a POSIX (PAX) tar, streamed in constant memory: numeric uid/gid,
 * modes, symlinks, hardlinks (as link entries), empty directories, user xattrs, UTF-8 and odd
 * names, and files of any size. The root itself is the entry {@code ./}, so its owner and mode
 * travel too. Sparse files are stored in full; the extractor punches the holes back.
 *
 * <p>Symlinks are never followed. Sockets, FIFOs and device nodes are skipped and reported
 * (the extractor would refuse them); a setuid file, or a setgid one that is not a directory,
 * fails the write, because the target would refuse the archive anyway.
 *
 * <p>The app may keep writing while the tree is walked: a file that grows is cut at the size
 * its header announced, one that shrinks is padded with zeros; the final delta corrects both.
 */
public final class VolumeTarWriter {

    /** Decides which paths go into the tar; the final delta passes only what changed. */
    @FunctionalInterface
    public interface Selector {
        Selector ALL = (relative, changedMillis) -> true;

        /** @param relative the path inside the volume, {@code ""} for the root */
        boolean include(String relative, long changedMillis);
    }

    /** What was written: regular files, their bytes, every path walked, and what was skipped. */
    public record Stats(long entries, long bytes, List<String> skipped) {}

    private static final int BUFFER = 256 * 1024;

    private final Path root;
    private final Selector selector;
    private final LongConsumer progress;
    private final java.util.function.Consumer<String> walked;

    /**
     * @param root     the volume's directory
     * @param selector which paths to write
     * @param walked   receives every path that exists (written or not), for the change fence
     * @param progress receives byte counts as file contents are written
     */
    public VolumeTarWriter(Path root, Selector selector, java.util.function.Consumer<String> walked,
                           LongConsumer progress) {
        this.root = root;
        this.selector = selector;
        this.walked = walked;
        this.progress = progress;
    }

    public static VolumeTarWriter of(Path root) {
        return new VolumeTarWriter(root, Selector.ALL, p -> {}, n -> {});
    }

    /** Writes the tar to {@code out}, finishing it but leaving {@code out} open. */
    public Stats write(OutputStream out) {
        try {
            TarArchiveOutputStream tar = new TarArchiveOutputStream(new NonClosing(out), BUFFER,
                    StandardCharsets.UTF_8.name());
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            tar.setAddPaxHeadersForNonAsciiNames(true);
            Walk walk = new Walk(tar);
            walk.visit(root, "");
            tar.finish();
            tar.flush();
            return new Stats(walk.entries, walk.bytes, List.copyOf(walk.skipped));
        } catch (IOException e) {
            throw new ArchiveException("could not write the tree of " + root + ": " + e.getMessage(), e);
        }
    }

    private final class Walk {
        final TarArchiveOutputStream tar;
        final Map<String, String> inodes = new HashMap<>(); // dev:ino -> first path written
        final List<String> skipped = new ArrayList<>();
        final byte[] buffer = new byte[BUFFER];
        long entries;
        long bytes;

        Walk(TarArchiveOutputStream tar) {
            this.tar = tar;
        }

        void visit(Path path, String rel) throws IOException {
            UnixAttributes a;
            try {
                a = UnixAttributes.of(path);
            } catch (NoSuchFileException gone) {
                return; // deleted while we walked: the final delta records the deletion
            }
            walked.accept(rel);
            String name = rel.isEmpty() ? "./" : rel;
            boolean include = selector.include(rel, a.changedMillis());
            if ((a.mode() & UnixAttributes.S_ISUID) != 0
                    || ((a.mode() & UnixAttributes.S_ISGID) != 0 && !a.isDirectory())) {
                throw new ArchiveException("volume path " + Names.quote(rel) + " has a setuid or setgid bit ("
                        + Integer.toOctalString(a.permissions()) + "): the target refuses such archives");
            }
            if (a.isDirectory()) {
                if (include) {
                    TarArchiveEntry e = entry(name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR, a);
                    tar.putArchiveEntry(e);
                    tar.closeArchiveEntry();
                    entries++;
                }
                List<Path> children;
                try (Stream<Path> s = Files.list(path)) {
                    children = s.sorted().toList();
                } catch (NoSuchFileException gone) {
                    return;
                }
                for (Path child : children) {
                    String childName = child.getFileName().toString();
                    visit(child, rel.isEmpty() ? childName : rel + "/" + childName);
                }
            } else if (!include) {
                return;
            } else if (a.isSymlink()) {
                TarArchiveEntry e = entry(name, TarConstants.LF_SYMLINK, a);
                e.setLinkName(Files.readSymbolicLink(path).toString());
                tar.putArchiveEntry(e);
                tar.closeArchiveEntry();
                entries++;
            } else if (a.isRegular()) {
                String inode = a.dev() + ":" + a.ino();
                String first = a.nlink() > 1 ? inodes.putIfAbsent(inode, rel) : null;
                if (first != null) {
                    TarArchiveEntry e = entry(name, TarConstants.LF_LINK, a);
                    e.setLinkName(first);
                    tar.putArchiveEntry(e);
                    tar.closeArchiveEntry();
                } else {
                    writeFile(path, name, a);
                }
                entries++;
            } else {
                skipped.add(rel);
            }
        }

        private void writeFile(Path path, String name, UnixAttributes a) throws IOException {
            TarArchiveEntry e = entry(name, TarConstants.LF_NORMAL, a);
            e.setSize(a.size());
            addXattrs(path, e);
            tar.putArchiveEntry(e);
            long left = a.size();
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                ByteBuffer bb = ByteBuffer.wrap(buffer);
                while (left > 0) {
                    bb.clear();
                    bb.limit((int) Math.min(buffer.length, left));
                    int n = ch.read(bb);
                    if (n < 0) {
                        break; // shrank while we read: pad below
                    }
                    tar.write(buffer, 0, n);
                    left -= n;
                    bytes += n;
                    progress.accept(n);
                }
            }
            if (left > 0) {
                java.util.Arrays.fill(buffer, (byte) 0); // only a file that shrank needs the zeros
            }
            while (left > 0) {
                int n = (int) Math.min(buffer.length, left);
                tar.write(buffer, 0, n);
                left -= n;
            }
            tar.closeArchiveEntry();
        }

        private void addXattrs(Path path, TarArchiveEntry e) {
            UserDefinedFileAttributeView view = Files.getFileAttributeView(path, UserDefinedFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (view == null) {
                return;
            }
            try {
                for (String attr : view.list()) {
                    ByteBuffer value = ByteBuffer.allocate(view.size(attr));
                    view.read(attr, value);
                    // ISO-8859-1 maps every byte to one char, so binary values survive the PAX header
                    e.addPaxHeader("SCHILY.xattr.user." + attr,
                            new String(value.array(), 0, value.position(), StandardCharsets.ISO_8859_1));
                }
            } catch (IOException | UnsupportedOperationException noXattrs) {
                // the filesystem has no user xattrs: nothing to keep
            }
        }

        private TarArchiveEntry entry(String name, byte flag, UnixAttributes a) {
            TarArchiveEntry e = new TarArchiveEntry(name, flag, false);
            e.setMode(a.type() | a.permissions());
            e.setUserId((long) a.uid());
            e.setGroupId((long) a.gid());
            e.setUserName("");
            e.setGroupName("");
            e.setModTime(a.mtime());
            return e;
        }
    }

    /** Lets the tar finish without closing the stream it writes into. */
    static final class NonClosing extends FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}
