package dev.fleet.migration.docker.archive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A sha256 over a tree: every path (sorted), its type, permission bits, numeric owner and group,
 * and a file's contents, a symlink's target, or the first path of a hardlinked inode. Times are
 * left out: two trees with equal fingerprints hold the same data, whatever moved them.
 */
public final class TreeFingerprint {
    private TreeFingerprint() {}

    public static String of(Path root) {
        MessageDigest all = Digests.sha256();
        Map<String, String> inodes = new HashMap<>();
        byte[] buf = new byte[256 * 1024];
        try {
            visit(root, "", all, inodes, buf);
        } catch (IOException e) {
            throw new ArchiveException("could not fingerprint " + root + ": " + e.getMessage(), e);
        }
        return Digests.hex(all);
    }

    private static void visit(Path p, String rel, MessageDigest all, Map<String, String> inodes, byte[] buf)
            throws IOException {
        UnixAttributes a;
        try {
            a = UnixAttributes.of(p);
        } catch (NoSuchFileException gone) {
            return;
        }
        StringBuilder line = new StringBuilder().append(rel.isEmpty() ? "." : rel).append('\0')
                .append(Integer.toOctalString(a.type() >> 12)).append('\0')
                .append(Integer.toOctalString(a.isSymlink() ? 0 : a.permissions())).append('\0')
                .append(a.uid()).append('\0').append(a.gid()).append('\0');
        if (a.isSymlink()) {
            line.append("->").append(Files.readSymbolicLink(p));
        } else if (a.isRegular()) {
            String first = a.nlink() > 1 ? inodes.putIfAbsent(a.dev() + ":" + a.ino(), rel) : null;
            if (first != null) {
                line.append("=").append(first);
            } else {
                MessageDigest content = Digests.sha256();
                try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        content.update(buf, 0, n);
                    }
                }
                line.append(a.size()).append(':').append(Digests.hex(content));
            }
        }
        all.update(line.append('\n').toString().getBytes(StandardCharsets.UTF_8));
        if (a.isDirectory()) {
            List<Path> children;
            try (Stream<Path> s = Files.list(p)) {
                children = s.sorted().toList();
            }
            for (Path c : children) {
                String name = c.getFileName().toString();
                visit(c, rel.isEmpty() ? name : rel + "/" + name, all, inodes, buf);
            }
        }
    }
}
