package dev.fleet.migration.docker.archive;

import dev.fleet.migration.core.Names;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Extracts a volume tar written by {@link VolumeTarWriter} into a root directory, refusing
 * anything that could reach outside it, <em>before</em> writing that entry: a {@code ..}
 * component, an absolute path, a symlink whose target leaves the root (or is absolute), a
 * hardlink to anything but a regular file inside the root, an entry below a symlink, device
 * nodes, FIFOs and other special types, and setuid (or non-directory setgid) bits. A truncated
 * stream is refused too. The caller extracts into staging and removes it on refusal, so a
 * refused archive leaves nothing behind.
 *
 * <p>Numeric owners, modes, modification times and user xattrs are applied; runs of 4 KiB of
 * zeros become holes, so sparse files stay sparse. Directory modes are applied last, so a
 * read-only directory can still receive its children.
 *
 * <p>{@link Mode#OVERLAY} applies a final delta onto an existing tree: an entry replaces what
 * is at its path (a directory replaced by a file is removed with its contents).
 */
public final class VolumeTarExtractor {

    public enum Mode {
        /** Into an empty staging directory. */
        FRESH,
        /** Onto an existing tree, replacing what each entry names. */
        OVERLAY
    }

    /** What was extracted. */
    public record Stats(long entries, long bytes) {}

    private static final int BLOCK = 4096;
    private static final int BUFFER = 256 * 1024;
    private static final String XATTR = "SCHILY.xattr.user.";

    private final Path root;
    private final Mode mode;
    private final LongConsumer progress;
    private final String label;

    /**
     * @param root     an existing directory
     * @param label    names the tree in error messages ("volume data")
     * @param progress receives byte counts of file contents as they are written
     */
    public VolumeTarExtractor(Path root, Mode mode, String label, LongConsumer progress) {
        try {
            this.root = root.toRealPath();
        } catch (IOException e) {
            throw new ArchiveException("extraction root " + root + " does not exist", e);
        }
        this.mode = mode;
        this.label = label;
        this.progress = progress;
    }

    /** Reads the whole tar from {@code in} (leaving it open) and extracts it. */
    public Stats extract(InputStream in) {
        long entries = 0;
        long bytes = 0;
        List<Pending> dirs = new ArrayList<>();
        byte[] buffer = new byte[BUFFER];
        try {
            TarArchiveInputStream tar = new TarArchiveInputStream(new NonClosing(in), StandardCharsets.UTF_8.name());
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                entries++;
                String rel = relativeName(e.getName());
                byte flag = e.getLinkFlag();
                if (flag != TarConstants.LF_NORMAL && flag != TarConstants.LF_OLDNORM && flag != TarConstants.LF_DIR
                        && flag != TarConstants.LF_SYMLINK && flag != TarConstants.LF_LINK) {
                    // checked first: commons-compress calls any non-directory a "file"
                    throw refuse(rel, "is a " + typeName(e) + ": only files, directories and links are accepted");
                }
                checkMode(e, rel);
                Path target = inside(rel);
                if (e.isDirectory()) {
                    if (!rel.isEmpty()) {
                        parents(target);
                        BasicFileAttributes existing = attrs(target);
                        if (existing != null && !existing.isDirectory()) {
                            removeTree(target);
                            existing = null;
                        }
                        if (existing == null) {
                            Files.createDirectory(target);
                        }
                    }
                    dirs.add(new Pending(target, e));
                } else if (e.isSymbolicLink()) {
                    requireNotRoot(rel, e);
                    parents(target);
                    checkSymlinkTarget(rel, target, e.getLinkName());
                    replace(target);
                    Files.createSymbolicLink(target, Path.of(e.getLinkName()));
                    owner(target, e);
                } else if (e.isLink()) {
                    requireNotRoot(rel, e);
                    parents(target);
                    String linkRel = relativeName(e.getLinkName());
                    Path existing = inside(linkRel);
                    parents(existing);
                    BasicFileAttributes la = attrs(existing);
                    if (la == null || !la.isRegularFile()) {
                        throw refuse(rel, "is a hardlink to " + Names.quote(e.getLinkName())
                                + ", which is not a regular file extracted inside the " + label);
                    }
                    if (!existing.equals(target)) {
                        replace(target);
                        Files.createLink(target, existing);
                    }
                } else if (e.isFile()) {
                    requireNotRoot(rel, e);
                    parents(target);
                    replace(target);
                    bytes += writeFile(tar, e, target, buffer);
                    owner(target, e);
                    Files.setAttribute(target, "unix:mode", e.getMode() & 07777, LinkOption.NOFOLLOW_LINKS);
                    xattrs(target, e);
                    Files.setLastModifiedTime(target, FileTime.fromMillis(e.getModTime().getTime()));
                } else {
                    throw refuse(rel, "is a " + typeName(e) + ": only files, directories and links are accepted");
                }
            }
            for (int i = dirs.size() - 1; i >= 0; i--) {
                Pending d = dirs.get(i);
                owner(d.path, d.entry);
                Files.setAttribute(d.path, "unix:mode", d.entry.getMode() & 07777, LinkOption.NOFOLLOW_LINKS);
                xattrs(d.path, d.entry);
                Files.setLastModifiedTime(d.path, FileTime.fromMillis(d.entry.getModTime().getTime()));
            }
            return new Stats(entries, bytes);
        } catch (ArchiveException e) {
            throw e;
        } catch (IOException | IllegalArgumentException e) {
            throw new ArchiveException("refused the " + label + ": it is unreadable or truncated after "
                    + entries + " entries (" + e.getMessage() + ")", e);
        }
    }

    private record Pending(Path path, TarArchiveEntry entry) {}

    /**
     * The entry's name as a relative path, {@code ""} for the root.
     *
     * @throws ArchiveException for absolute names, {@code ..} components and NUL characters
     */
    static String relativeName(String name) {
        if (name == null || name.isEmpty()) {
            throw new ArchiveException("refused the archive: an entry has an empty name");
        }
        if (name.indexOf('\0') >= 0) {
            throw new ArchiveException("refused the archive: entry " + Names.quote(name) + " holds a NUL character");
        }
        if (name.startsWith("/")) {
            throw new ArchiveException("refused the archive: entry " + Names.quote(name) + " is an absolute path");
        }
        List<String> parts = new ArrayList<>();
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                throw new ArchiveException("refused the archive: entry " + Names.quote(name)
                        + " has a '..' component");
            }
            if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        return String.join("/", parts);
    }

    private Path inside(String rel) {
        Path p = rel.isEmpty() ? root : root.resolve(rel).normalize();
        if (!p.startsWith(root)) {
            throw refuse(rel, "resolves outside the " + label);
        }
        return p;
    }

    /** Every directory between the root and {@code target} must be a real directory, never a symlink. */
    private void parents(Path target) throws IOException {
        Path parent = target.getParent();
        if (parent == null || !parent.startsWith(root)) {
            throw refuse(root.relativize(target).toString(), "resolves outside the " + label);
        }
        Path current = root;
        for (Path part : root.relativize(parent)) {
            current = current.resolve(part);
            BasicFileAttributes a = attrs(current);
            if (a == null) {
                Files.createDirectory(current);
            } else if (a.isSymbolicLink()) {
                throw refuse(root.relativize(target).toString(), "lies below the symlink "
                        + Names.quote(root.relativize(current).toString()) + ": writing through links is refused");
            } else if (!a.isDirectory()) {
                throw refuse(root.relativize(target).toString(), "lies below "
                        + Names.quote(root.relativize(current).toString()) + ", which is not a directory");
            }
        }
    }

    private void checkSymlinkTarget(String rel, Path target, String link) {
        if (link == null || link.isEmpty() || link.indexOf('\0') >= 0) {
            throw refuse(rel, "is a symlink with an empty or invalid target");
        }
        if (link.startsWith("/")) {
            throw refuse(rel, "is a symlink to the absolute path " + Names.quote(link) + ", which leaves the " + label);
        }
        Path resolved = target.getParent().resolve(link).normalize();
        if (!resolved.startsWith(root)) {
            throw refuse(rel, "is a symlink to " + Names.quote(link) + ", which leaves the " + label);
        }
    }

    private void checkMode(TarArchiveEntry e, String rel) {
        int m = e.getMode();
        if ((m & 04000) != 0 || ((m & 02000) != 0 && !e.isDirectory())) {
            throw refuse(rel, "has a setuid or setgid bit (mode " + Integer.toOctalString(m & 07777) + ")");
        }
    }

    private void requireNotRoot(String rel, TarArchiveEntry e) {
        if (rel.isEmpty()) {
            throw refuse(e.getName(), "names the root but is not a directory");
        }
    }

    private long writeFile(InputStream in, TarArchiveEntry e, Path target, byte[] buffer) throws IOException {
        long size = e.getSize();
        long pos = 0;
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            while (pos < size) {
                int want = (int) Math.min(buffer.length, size - pos);
                int n = readFully(in, buffer, want);
                if (n < want) {
                    throw refuse(root.relativize(target).toString(), "is truncated: " + (pos + n) + " of " + size
                            + " bytes");
                }
                // each run of blocks that are not all zeros goes out in one write; zero blocks stay holes
                int run = -1;
                for (int off = 0; run >= 0 || off < n; off += BLOCK) {
                    boolean data = off < n && !zero(buffer, off, Math.min(BLOCK, n - off));
                    if (data && run < 0) {
                        run = off;
                    } else if (!data && run >= 0) {
                        ByteBuffer bb = ByteBuffer.wrap(buffer, run, Math.min(off, n) - run);
                        long at = pos + run;
                        while (bb.hasRemaining()) {
                            at += ch.write(bb, at);
                        }
                        run = -1;
                    }
                }
                pos += n;
                progress.accept(n);
            }
            if (ch.size() < size) {
                ch.write(ByteBuffer.wrap(new byte[1]), size - 1); // a trailing hole still needs the file's length
            }
        }
        return size;
    }

    private static int readFully(InputStream in, byte[] buffer, int want) throws IOException {
        int got = 0;
        while (got < want) {
            int n = in.read(buffer, got, want - got);
            if (n < 0) {
                break;
            }
            got += n;
        }
        return got;
    }

    private static boolean zero(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static void owner(Path p, TarArchiveEntry e) throws IOException {
        Files.setAttribute(p, "unix:uid", (int) e.getLongUserId(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", (int) e.getLongGroupId(), LinkOption.NOFOLLOW_LINKS);
    }

    private static void xattrs(Path p, TarArchiveEntry e) {
        Map<String, String> pax = e.getExtraPaxHeaders();
        if (pax.isEmpty()) {
            return;
        }
        UserDefinedFileAttributeView view = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        for (Map.Entry<String, String> x : pax.entrySet()) {
            if (view != null && x.getKey().startsWith(XATTR)) {
                try {
                    view.write(x.getKey().substring(XATTR.length()),
                            ByteBuffer.wrap(x.getValue().getBytes(StandardCharsets.ISO_8859_1)));
                } catch (IOException | UnsupportedOperationException noXattrs) {
                    // this filesystem cannot hold user xattrs; the data itself is complete
                }
            }
        }
    }

    /** Removes whatever is at {@code p} (without following links), so a new entry can take its place. */
    private void replace(Path p) throws IOException {
        BasicFileAttributes a = attrs(p);
        if (a == null) {
            return;
        }
        if (a.isDirectory()) {
            removeTree(p);
        } else {
            Files.delete(p);
        }
    }

    private static BasicFileAttributes attrs(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Deletes a tree without following symlinks; missing is fine. */
    public static void removeTree(Path p) throws IOException {
        if (attrs(p) == null) {
            return;
        }
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                // a read-only directory must become writable before its children can go
                Files.setAttribute(dir, "unix:mode", 0700, LinkOption.NOFOLLOW_LINKS);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                try {
                    Files.delete(dir);
                } catch (DirectoryNotEmptyException race) {
                    removeTree(dir);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private ArchiveException refuse(String rel, String why) {
        return new ArchiveException("refused the " + label + ": entry " + Names.quote(rel.isEmpty() ? "./" : rel)
                + " " + why);
    }

    private static String typeName(TarArchiveEntry e) {
        if (e.isCharacterDevice()) {
            return "character device";
        }
        if (e.isBlockDevice()) {
            return "block device";
        }
        if (e.isFIFO()) {
            return "FIFO";
        }
        return "special entry of type '" + (char) e.getLinkFlag() + "'";
    }

    /** Lets the tar reader stop without closing the stream it reads from. */
    static final class NonClosing extends FilterInputStream {
        NonClosing(InputStream in) {
            super(in);
        }

        @Override
        public void close() {
            // the caller owns the stream
        }
    }
}
