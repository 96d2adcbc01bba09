package dev.fleet.migration.core.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** A digest of a directory tree (paths, kinds, modes, link targets, contents), for equality checks. */
public final class Trees {
    private Trees() {}

    public static String digest(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            List<Path> paths = walk.sorted().toList();
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Path p : paths) {
                String rel = root.relativize(p).toString();
                md.update(rel.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update((byte) 0);
                if (Files.isSymbolicLink(p)) {
                    md.update(("L" + Files.readSymbolicLink(p)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    md.update(("D" + perms(p)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                } else {
                    md.update(("F" + perms(p)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    try (InputStream in = Files.newInputStream(p)) {
                        byte[] buf = new byte[64 * 1024];
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            md.update(buf, 0, n);
                        }
                    }
                }
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String perms(Path p) throws IOException {
        try {
            return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
        } catch (UnsupportedOperationException e) {
            return "";
        }
    }
}
