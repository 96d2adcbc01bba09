package dev.fleet.migration.core.testing;

import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.spi.Snapshotter;
import dev.fleet.migration.core.spi.VolumeLocation;
import dev.fleet.migration.core.spi.VolumeSnapshot;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A reference {@link Snapshotter} on plain directories, for the contract kit's own test: a
 * snapshot is a copy (point-in-time only because nothing writes during the copy in a test),
 * and the stream is a simple framed format with an entry count at the end, so a truncated
 * stream is detected. Not atomic and not read-only: never use it outside tests.
 */
public final class DirectoryCopySnapshotter implements Snapshotter {
    private static final String MAGIC = "FLEETCOPY1";
    private final Path root;
    private final Clock clock;

    public DirectoryCopySnapshotter(Path root, Clock clock) {
        this.root = root;
        this.clock = clock;
    }

    @Override
    public String name() {
        return "copy";
    }

    @Override
    public boolean supports(VolumeLocation volume) {
        return volume.mountpoint().startsWith(root) && Files.isDirectory(volume.mountpoint());
    }

    @Override
    public VolumeSnapshot snapshot(VolumeLocation volume, String tag) {
        Path to = root.resolve(".snapshots").resolve(volume.volume() + "@" + tag);
        try {
            Files.createDirectories(to.getParent());
            copyTree(volume.mountpoint(), to);
        } catch (IOException e) {
            throw new NodeOperationException(NodeId.of("local"), "snapshot", e.toString(), e);
        }
        return new VolumeSnapshot(volume, tag, to, clock.instant(), name());
    }

    @Override
    public void send(VolumeSnapshot snapshot, Optional<VolumeSnapshot> parent, OutputStream out) {
        try {
            DataOutputStream d = new DataOutputStream(out);
            d.writeUTF(MAGIC);
            d.writeBoolean(parent.isPresent());
            int count = 0;
            Path base = snapshot.path();
            try (Stream<Path> walk = Files.walk(base)) {
                for (Path p : walk.sorted().toList()) {
                    if (p.equals(base)) {
                        continue;
                    }
                    String rel = base.relativize(p).toString();
                    Optional<Path> old = parent.map(s -> s.path().resolve(rel));
                    if (Files.isSymbolicLink(p)) {
                        d.writeByte('L');
                        d.writeUTF(rel);
                        d.writeUTF(Files.readSymbolicLink(p).toString());
                    } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        d.writeByte('D');
                        d.writeUTF(rel);
                        d.writeUTF(perms(p));
                    } else {
                        if (old.isPresent() && Files.isRegularFile(old.get(), LinkOption.NOFOLLOW_LINKS)
                                && Files.mismatch(p, old.get()) == -1L && perms(p).equals(perms(old.get()))) {
                            continue; // unchanged since the parent
                        }
                        d.writeByte('F');
                        d.writeUTF(rel);
                        d.writeUTF(perms(p));
                        d.writeLong(Files.size(p));
                        Files.copy(p, d);
                    }
                    count++;
                }
            }
            if (parent.isPresent()) {
                Path pbase = parent.get().path();
                try (Stream<Path> walk = Files.walk(pbase)) {
                    for (Path p : walk.sorted().toList()) {
                        String rel = pbase.relativize(p).toString();
                        if (!rel.isEmpty() && !Files.exists(base.resolve(rel), LinkOption.NOFOLLOW_LINKS)) {
                            d.writeByte('X');
                            d.writeUTF(rel);
                            count++;
                        }
                    }
                }
            }
            d.writeByte('E');
            d.writeInt(count);
            d.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void receive(InputStream in, VolumeLocation destination) {
        Path dst = destination.mountpoint();
        Path work = dst.resolveSibling("." + dst.getFileName() + ".partial-" + UUID.randomUUID());
        try {
            DataInputStream d = new DataInputStream(in);
            if (!MAGIC.equals(d.readUTF())) {
                throw new IOException("not a copy stream");
            }
            boolean incremental = d.readBoolean();
            if (incremental) {
                if (!Files.isDirectory(dst)) {
                    throw new IOException("an incremental stream needs its parent at " + dst);
                }
                copyTree(dst, work);
            } else {
                Files.createDirectories(work);
            }
            int count = 0;
            for (;;) {
                byte kind = d.readByte();
                if (kind == 'E') {
                    if (d.readInt() != count) {
                        throw new IOException("entry count mismatch");
                    }
                    break;
                }
                String rel = d.readUTF();
                Path p = work.resolve(rel).normalize();
                if (!p.startsWith(work)) {
                    throw new IOException("entry leaves the volume: " + rel);
                }
                switch (kind) {
                    case 'D' -> {
                        Files.createDirectories(p);
                        setPerms(p, d.readUTF());
                    }
                    case 'L' -> {
                        Files.deleteIfExists(p);
                        Files.createSymbolicLink(p, Path.of(d.readUTF()));
                    }
                    case 'F' -> {
                        String perms = d.readUTF();
                        long size = d.readLong();
                        Files.createDirectories(p.getParent());
                        try (OutputStream o = Files.newOutputStream(p)) {
                            byte[] buf = new byte[8192];
                            long left = size;
                            while (left > 0) {
                                int n = d.read(buf, 0, (int) Math.min(buf.length, left));
                                if (n < 0) {
                                    throw new IOException("stream ends inside " + rel);
                                }
                                o.write(buf, 0, n);
                                left -= n;
                            }
                        }
                        setPerms(p, perms);
                    }
                    case 'X' -> deleteTree(p);
                    default -> throw new IOException("unknown entry kind " + kind);
                }
                count++;
            }
            if (incremental) {
                Path old = dst.resolveSibling("." + dst.getFileName() + ".old-" + UUID.randomUUID());
                Files.move(dst, old, StandardCopyOption.ATOMIC_MOVE);
                Files.move(work, dst, StandardCopyOption.ATOMIC_MOVE);
                deleteTree(old);
            } else {
                Files.move(work, dst, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException | RuntimeException e) {
            try {
                deleteTree(work);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new NodeOperationException(NodeId.of("local"), "receive", e.toString(), e);
        }
    }

    @Override
    public void release(VolumeSnapshot snapshot) {
        try {
            deleteTree(snapshot.path());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String perms(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    private static void setPerms(Path p, String perms) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path t = to.resolve(from.relativize(dir).toString());
                Files.createDirectories(t);
                Files.setPosixFilePermissions(t, Files.getPosixFilePermissions(dir));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, to.resolve(from.relativize(file).toString()), LinkOption.NOFOLLOW_LINKS,
                        StandardCopyOption.COPY_ATTRIBUTES);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> all = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(p)) {
            walk.forEach(all::add);
        }
        for (int i = all.size() - 1; i >= 0; i--) {
            Files.deleteIfExists(all.get(i));
        }
    }
}
