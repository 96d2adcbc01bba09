package dev.fleet.migration.docker.archive;

import dev.fleet.migration.core.Names;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
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
        // directories whose metadata is applied once the walk has left them: the writer walks
        // depth first, so this holds one path from the root down, never every directory
        Deque<Pending> open = new ArrayDeque<>();
        byte[] buffer = new byte[BUFFER];
        boolean fresh = mode == Mode.FRESH;
        boolean rootSeen = false;
        Path verifiedDir = null; // FRESH: a directory this extraction created, so a real one
        try {
            int[] owner = creator();
            int umask = umask();
            TarArchiveInputStream tar = new TarArchiveInputStream(new TarHeaderGuard(new NonClosing(in), label),
                    StandardCharsets.UTF_8.name());
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
                while (!open.isEmpty() && (target.equals(open.peek().path) || !target.startsWith(open.peek().path))) {
                    apply(open.pop(), owner);
                }
                if (!rel.isEmpty()) {
                    if (!fresh || verifiedDir == null || !target.getParent().equals(verifiedDir)) {
                        parents(target);
                        if (fresh) {
                            verifiedDir = target.getParent();
                        }
                    }
                }
                try {
                    if (e.isDirectory()) {
                        if (rel.isEmpty()) {
                            if (fresh && rootSeen) {
                                throw refuse(rel, "appears twice");
                            }
                            rootSeen = true;
                        } else if (fresh) {
                            Files.createDirectory(target);
                            verifiedDir = target;
                        } else {
                            BasicFileAttributes existing = attrs(target);
                            if (existing != null && !existing.isDirectory()) {
                                removeTree(target);
                                existing = null;
                            }
                            if (existing == null) {
                                Files.createDirectory(target);
                            }
                        }
                        open.push(Pending.of(target, e));
                    } else if (e.isSymbolicLink()) {
                        requireNotRoot(rel, e);
                        checkSymlinkTarget(rel, target, e.getLinkName());
                        if (!fresh) {
                            replace(target);
                        }
                        Files.createSymbolicLink(target, Path.of(e.getLinkName()));
                        owner(target, e.getLongUserId(), e.getLongGroupId(), fresh ? owner : null);
                    } else if (e.isLink()) {
                        requireNotRoot(rel, e);
                        String linkRel = relativeName(e.getLinkName());
                        Path existing = inside(linkRel);
                        parents(existing);
                        BasicFileAttributes la = attrs(existing);
                        if (la == null || !la.isRegularFile()) {
                            throw refuse(rel, "is a hardlink to " + Names.quote(e.getLinkName())
                                    + ", which is not a regular file extracted inside the " + label);
                        }
                        if (fresh || !existing.equals(target)) {
                            if (!fresh) {
                                replace(target);
                            }
                            Files.createLink(target, existing);
                        }
                    } else if (e.isFile()) {
                        requireNotRoot(rel, e);
                        if (!fresh) {
                            replace(target);
                        }
                        int fileMode = e.getMode() & 07777;
                        boolean modeSet = writeFile(tar, e, target, buffer, fileMode, umask);
                        bytes += e.getSize();
                        owner(target, e.getLongUserId(), e.getLongGroupId(), fresh ? owner : null);
                        if (!modeSet) {
                            Files.setAttribute(target, "unix:mode", fileMode, LinkOption.NOFOLLOW_LINKS);
                        }
                        xattrs(target, xattrsOf(e));
                        modified(target, e.getModTime().getTime(), fresh);
                    } else {
                        throw refuse(rel, "is a " + typeName(e) + ": only files, directories and links are accepted");
                    }
                } catch (FileAlreadyExistsException twice) {
                    throw refuse(rel, "appears twice");
                }
            }
            while (!open.isEmpty()) {
                apply(open.pop(), owner);
            }
            return new Stats(entries, bytes);
        } catch (ArchiveException e) {
            throw e;
        } catch (IOException | IllegalArgumentException e) {
            if (NoSpaceException.causedBy(e)) {
                // a full disk is not a broken archive: say which tree did not fit where
                throw new NoSpaceException(label, root, e);
            }
            throw new ArchiveException("refused the " + label + ": it is unreadable or truncated after "
                    + entries + " entries (" + e.getMessage() + ")", e);
        }
    }

    /** A directory's metadata, kept until the walk leaves it (its children would change its mtime). */
    private record Pending(Path path, int mode, long uid, long gid, long mtimeMillis, Map<String, String> xattrs) {
        static Pending of(Path path, TarArchiveEntry e) {
            return new Pending(path, e.getMode() & 07777, e.getLongUserId(), e.getLongGroupId(),
                    e.getModTime().getTime(), xattrsOf(e));
        }
    }

    private void apply(Pending d, int[] creator) throws IOException {
        owner(d.path, d.uid, d.gid, d.path.equals(root) ? null : creator);
        Files.setAttribute(d.path, "unix:mode", d.mode, LinkOption.NOFOLLOW_LINKS);
        xattrs(d.path, d.xattrs);
        Files.setLastModifiedTime(d.path, FileTime.fromMillis(d.mtimeMillis));
    }

    /** FRESH: the owner a path this extraction creates gets anyway (so a chown can be skipped); else null. */
    private int[] creator() throws IOException {
        if (mode != Mode.FRESH) {
            return null;
        }
        Map<String, Object> a = Files.readAttributes(root, "unix:uid,gid,mode", LinkOption.NOFOLLOW_LINKS);
        if ((((Integer) a.get("mode")) & 02000) != 0) {
            return null; // a setgid root hands its group down: keep it simple and chown everything
        }
        return new int[] {(Integer) a.get("uid"), (Integer) a.get("gid")};
    }

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

    /**
     * Creates {@code target} and writes the entry's data into it, zero blocks left as holes. The
     * file is created with the entry's permission bits (the umask can only take bits away, so it
     * is never more open than the archive says, not even for a moment); true when that gave it
     * exactly {@code mode}, so no chmod is needed: no setuid, setgid or sticky bit, and no bit the
     * umask ({@code -1}: unknown) removes.
     */
    private boolean writeFile(InputStream in, TarArchiveEntry e, Path target, byte[] buffer, int mode, int umask)
            throws IOException {
        long size = e.getSize();
        long pos = 0;
        long written = 0; // the end of the last run of data written
        try (FileChannel ch = FileChannel.open(target, CREATE_FILE, permissions(mode & 0777))) {
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
                        written = at;
                        run = -1;
                    }
                }
                pos += n;
                progress.accept(n);
            }
            if (written < size) {
                ch.write(ByteBuffer.wrap(new byte[1]), size - 1); // a trailing hole still needs the file's length
            }
        }
        return umask >= 0 && (mode & ~0777) == 0 && (mode & umask) == 0;
    }

    private static final java.util.Set<java.nio.file.OpenOption> CREATE_FILE = java.util.Set.of(
            StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);

    /** The creation attribute for each permission mode, made once. */
    private static final java.nio.file.attribute.FileAttribute<?>[] PERMISSIONS = new java.nio.file.attribute.FileAttribute<?>[01000];

    private static java.nio.file.attribute.FileAttribute<?> permissions(int mode) {
        java.nio.file.attribute.FileAttribute<?> a = PERMISSIONS[mode];
        if (a == null) {
            java.util.Set<java.nio.file.attribute.PosixFilePermission> set =
                    java.util.EnumSet.noneOf(java.nio.file.attribute.PosixFilePermission.class);
            java.nio.file.attribute.PosixFilePermission[] bits = java.nio.file.attribute.PosixFilePermission.values();
            for (int i = 0; i < 9; i++) { // OWNER_READ (0400) ... OTHERS_EXECUTE (0001)
                if ((mode & (0400 >> i)) != 0) {
                    set.add(bits[i]);
                }
            }
            a = java.nio.file.attribute.PosixFilePermissions.asFileAttribute(set);
            PERMISSIONS[mode] = a;
        }
        return a;
    }

    /**
     * This process's umask, from {@code /proc/self/status}; -1 when it cannot be read (every
     * file's mode is then set after its creation).
     */
    static int umask() {
        try (java.io.BufferedReader r = Files.newBufferedReader(Path.of("/proc/self/status"),
                StandardCharsets.US_ASCII)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("Umask:")) {
                    return Integer.parseInt(line.substring(6).strip(), 8) & 0777;
                }
            }
        } catch (IOException | RuntimeException unknown) {
            // not Linux, or an old kernel: chmod every file
        }
        return -1;
    }

    /**
     * Sets a file's modification time. FRESH: the file was created by this extraction a moment
     * ago inside staging, which only the agent writes, so it is set by path with one
     * {@code utimes} (and a {@code stat} for its access time) instead of an open, a stat, a
     * {@code futimens} and a close; OVERLAY, or where that fails: through NIO.
     */
    private static void modified(Path p, long millis, boolean fresh) throws IOException {
        if (fresh && millis >= 0 && p.toFile().setLastModified(millis)) {
            return;
        }
        Files.setLastModifiedTime(p, FileTime.fromMillis(millis));
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

    private static final byte[] ZEROS = new byte[BLOCK];

    private static boolean zero(byte[] b, int off, int len) {
        return java.util.Arrays.mismatch(b, off, off + len, ZEROS, 0, len) < 0; // vectorized
    }

    /** Sets a numeric owner, unless {@code creator} says the path, freshly created, has it already. */
    private static void owner(Path p, long uid, long gid, int[] creator) throws IOException {
        if (creator != null && creator[0] == uid && creator[1] == gid) {
            return;
        }
        Files.setAttribute(p, "unix:uid", (int) uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", (int) gid, LinkOption.NOFOLLOW_LINKS);
    }

    /** The user xattrs an entry carries, or null. */
    private static Map<String, String> xattrsOf(TarArchiveEntry e) {
        Map<String, String> pax = e.getExtraPaxHeaders();
        if (pax.isEmpty()) {
            return null;
        }
        Map<String, String> out = null;
        for (Map.Entry<String, String> x : pax.entrySet()) {
            if (x.getKey().startsWith(XATTR)) {
                if (out == null) {
                    out = new java.util.TreeMap<>();
                }
                out.put(x.getKey().substring(XATTR.length()), x.getValue());
            }
        }
        return out;
    }

    private static void xattrs(Path p, Map<String, String> xattrs) {
        if (xattrs == null) {
            return;
        }
        UserDefinedFileAttributeView view = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        for (Map.Entry<String, String> x : xattrs.entrySet()) {
            if (view != null) {
                try {
                    view.write(x.getKey(), ByteBuffer.wrap(x.getValue().getBytes(StandardCharsets.ISO_8859_1)));
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
