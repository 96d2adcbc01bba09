package dev.fleet.migration.storage.cow;

import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.spi.Snapshotter;
import dev.fleet.migration.core.spi.VolumeLocation;
import dev.fleet.migration.core.spi.VolumeSnapshot;
import dev.fleet.migration.storage.cow.internal.Command;
import dev.fleet.migration.storage.cow.internal.CowNames;
import dev.fleet.migration.storage.cow.internal.StreamHeaders;
import dev.fleet.migration.storage.cow.internal.Trees;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * Snapshots volumes whose mountpoint is a btrfs subvolume, with the {@code btrfs} program.
 *
 * <ul>
 *   <li>{@link #supports}: the mountpoint is on btrfs and {@code btrfs subvolume show} accepts it.
 *       A plain directory on btrfs (Docker's {@code local} volume under a data root on btrfs) is
 *       not a subvolume and is not supported: snapshotting the subvolume around it would send
 *       everything else in it too.</li>
 *   <li>{@link #snapshot}: {@code btrfs subvolume snapshot -r}, atomic and O(1), shown at
 *       {@code <parent>/.fleet-snapshots/<volume>@<tag>} (the snapshot subvolume itself; read-only
 *       for everyone, root included). The parent directory must be on the same btrfs.
 *       What "atomic" means on btrfs: everything that reached the subvolume's tree before the
 *       snapshot's commit is in it, at one instant (so every write an app made durable with
 *       fsync/O_DSYNC, in order). Buffered writes still only in the page cache are flushed file by
 *       file as the snapshot starts, so for an app that never syncs two files can be captured a few
 *       milliseconds apart (seen in a test: a.txt at line 3016, b.txt at 5104). That is the same
 *       state a power cut could leave; ZFS does not have this gap.</li>
 *   <li>{@link #send}: {@code btrfs send [-p parent]}.</li>
 *   <li>{@link #receive}: {@code btrfs receive} into a fresh directory under
 *       {@code <parent>/.fleet-received/<name>/}; the received subvolume stays there, read-only,
 *       as the base the next incremental stream needs (btrfs finds it by its received UUID), and
 *       the destination becomes a writable snapshot of it, renamed into place. A failed receive
 *       deletes what it made; the destination is untouched. An incremental receive deletes
 *       nothing: the older bases and the destination it replaced (moved in with the bases) stay
 *       until {@link #releaseReceived} drops them all once the migration is over, because deleting
 *       a big subvolume sets the kernel freeing its extents, work in proportion to its size that
 *       would slow whatever runs next (on a target, the app's start).</li>
 * </ul>
 *
 * <p>Threads: safe for concurrent use on different volumes; concurrent receives into the same
 * destination are not supported.
 */
public final class BtrfsSnapshotter implements PoolSnapshotter {
    /** The directory beside a volume where its snapshots are shown. */
    public static final String SNAPSHOTS_DIR = ".fleet-snapshots";
    /** The directory beside a received volume where its received bases are kept. */
    public static final String RECEIVED_DIR = ".fleet-received";
    /** The inode number of every subvolume's root directory (BTRFS_FIRST_FREE_OBJECTID). */
    private static final long SUBVOLUME_ROOT_INODE = 256;

    private final NodeId node;
    private final Clock clock;
    private final String program;

    /** Uses the {@code btrfs} program found on the PATH. */
    public BtrfsSnapshotter(NodeId node, Clock clock) {
        this(node, clock, "btrfs");
    }

    /** Uses {@code program} (an absolute path, or a name looked up on the PATH) as {@code btrfs}. */
    public BtrfsSnapshotter(NodeId node, Clock clock, String program) {
        this.node = Objects.requireNonNull(node, "node");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.program = Objects.requireNonNull(program, "program");
    }

    @Override
    public String name() {
        return "btrfs";
    }

    @Override
    public PoolKind kind() {
        return PoolKind.BTRFS;
    }

    /**
     * Every subvolume has its own device number and its root is inode 256, so the holder is the
     * highest ancestor with the path's device number, checked to be inode 256.
     */
    @Override
    public Optional<Path> holderOf(Path path) {
        try {
            Path p = path.toRealPath();
            if (!"btrfs".equals(Files.getFileStore(p).type())) {
                return Optional.empty();
            }
            Object dev = Files.getAttribute(p, "unix:dev", LinkOption.NOFOLLOW_LINKS);
            Path cur = p;
            while (cur.getParent() != null
                    && dev.equals(Files.getAttribute(cur.getParent(), "unix:dev", LinkOption.NOFOLLOW_LINKS))) {
                cur = cur.getParent();
            }
            Object ino = Files.getAttribute(cur, "unix:ino", LinkOption.NOFOLLOW_LINKS);
            return ((Long) ino) == SUBVOLUME_ROOT_INODE ? Optional.of(cur) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    @Override
    public void createVolume(Path at) {
        CowNames.leaf("volume path", at);
        if (Files.exists(at, LinkOption.NOFOLLOW_LINKS)) {
            throw new NodeOperationException(node, "create", at + " already exists");
        }
        btrfs("create", "subvolume", "create", "--", at.toString()).run();
    }

    @Override
    public void destroyVolume(Path at) {
        CowNames.leaf("volume path", at);
        if (!Files.exists(at, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!holderOf(at).map(at::equals).orElse(false)) {
            throw new NodeOperationException(node, "destroy", at + " is not a btrfs subvolume; refusing to delete it");
        }
        btrfs("destroy", "subvolume", "delete", "--", at.toString()).run();
    }

    @Override
    public boolean supports(VolumeLocation volume) {
        Path p = volume.mountpoint();
        try {
            if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) || !"btrfs".equals(Files.getFileStore(p).type())) {
                return false;
            }
        } catch (IOException e) {
            return false;
        }
        return btrfs("supports", "subvolume", "show", "--", p.toString()).succeeds();
    }

    @Override
    public VolumeSnapshot snapshot(VolumeLocation volume, String tag) {
        Path target = snapshotPath(volume, tag);
        if (!supports(volume)) {
            throw new NodeOperationException(node, "snapshot", "volume " + volume.volume() + " at "
                    + volume.mountpoint() + " is not a btrfs subvolume");
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new NodeOperationException(node, "snapshot", "a snapshot " + target + " already exists; tags are unique per volume");
        }
        try {
            Files.createDirectories(target.getParent());
        } catch (IOException e) {
            throw new NodeOperationException(node, "snapshot", "cannot create " + target.getParent() + ": " + e, e);
        }
        Instant takenAt = clock.instant(); // no later than the snapshot's instant: change detection counts on it
        btrfs("snapshot", "subvolume", "snapshot", "-r", "--", volume.mountpoint().toString(), target.toString()).run();
        return new VolumeSnapshot(volume, tag, target, takenAt, name());
    }

    @Override
    public void send(VolumeSnapshot snapshot, Optional<VolumeSnapshot> parent, OutputStream out) {
        List<String> argv = new ArrayList<>(List.of("send", "-q"));
        parent.ifPresent(p -> {
            argv.add("-p");
            argv.add(ownSnapshot(p).toString());
        });
        argv.add("--");
        argv.add(ownSnapshot(snapshot).toString());
        btrfs("send", argv.toArray(String[]::new)).streamTo(out);
    }

    @Override
    public void receive(InputStream in, VolumeLocation destination) {
        Path dst = destination.mountpoint();
        String leaf = CowNames.leaf("destination", dst);
        Path parent = dst.getParent();
        StreamHeaders.Kind kind;
        byte[] head;
        try {
            head = StreamHeaders.readHead(in, StreamHeaders.BTRFS_PEEK);
            kind = StreamHeaders.btrfs(head);
        } catch (IOException e) {
            throw new NodeOperationException(node, "receive", "refused the stream for " + dst + ": " + e.getMessage(), e);
        }
        boolean exists = Files.exists(dst, LinkOption.NOFOLLOW_LINKS);
        if (kind == StreamHeaders.Kind.FULL && exists) {
            throw new NodeOperationException(node, "receive", "a full stream creates a new volume, but " + dst + " exists");
        }
        if (kind == StreamHeaders.Kind.INCREMENTAL && !exists) {
            throw new NodeOperationException(node, "receive", "an incremental stream updates a volume received before, but "
                    + dst + " does not exist");
        }
        Path bases = parent.resolve(RECEIVED_DIR).resolve(leaf);
        Path incoming = bases.resolve(clock.instant().toEpochMilli() + "-" + UUID.randomUUID().toString().substring(0, 8));
        Path fresh = null;
        Path old = null;
        try {
            Files.createDirectories(incoming);
            btrfs("receive", "receive", "-q", "-e", "--", incoming.toString())
                    .streamFrom(new SequenceInputStream(new ByteArrayInputStream(head), in));
            List<Path> got = Trees.children(incoming);
            if (got.size() != 1) {
                throw new NodeOperationException(node, "receive", "btrfs receive left " + got.size()
                        + " entries in " + incoming + ", expected exactly one subvolume");
            }
            fresh = Trees.hiddenSibling(dst, "incoming");
            btrfs("receive", "subvolume", "snapshot", "--", got.get(0).toString(), fresh.toString()).run();
            if (exists) {
                // kept with the bases until releaseReceived: deleting a big subvolume starts the
                // kernel freeing its extents, work in proportion to its size that would slow
                // whatever runs next (on a target: the app's start, inside the downtime)
                Path replaced = Files.createDirectories(bases.resolve(clock.instant().toEpochMilli() + "-replaced-"
                        + UUID.randomUUID().toString().substring(0, 8)));
                old = replaced.resolve(leaf);
                Files.move(dst, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(fresh, dst, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            RuntimeException failure = e instanceof RuntimeException r ? r
                    : new NodeOperationException(node, "receive", "receiving into " + dst + " failed: " + e, e);
            undoReceive(failure, dst, incoming, fresh, old);
            throw failure;
        }
        // the older bases and the replaced subvolume stay until releaseReceived, for the same reason
    }

    @Override
    public void release(VolumeSnapshot snapshot) {
        Path p = ownSnapshot(snapshot);
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Command.Result r = btrfs("release", "subvolume", "delete", "--", p.toString()).result();
        if (!r.ok() && Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new NodeOperationException(node, "release", "btrfs subvolume delete " + p + " exited with status "
                    + r.exitCode() + ": " + r.stderr().strip());
        }
    }

    /**
     * Drops the read-only bases kept for {@code destination} by {@link #receive} (they are what a
     * later incremental stream is applied to). Call it on the target once the migration has
     * ended, whichever way; the destination volume itself is left alone. Idempotent.
     */
    @Override
    public void releaseReceived(VolumeLocation destination) {
        Path dst = destination.mountpoint();
        Path bases = dst.getParent().resolve(RECEIVED_DIR).resolve(CowNames.leaf("destination", dst));
        try {
            for (Path base : Trees.children(bases)) {
                deleteBase(base);
            }
        } catch (IOException e) {
            throw new NodeOperationException(node, "release", "cannot list " + bases + ": " + e, e);
        }
        Trees.removeIfEmpty(bases);
    }

    /** Where the snapshot {@code tag} of {@code volume} is (or would be) shown. */
    public static Path snapshotPath(VolumeLocation volume, String tag) {
        Path beside = besideVolume(volume, tag);
        Path parent = volume.mountpoint().getParent();
        if (!sameBtrfs(parent, volume.mountpoint())) {
            // a subvolume that is itself a mount root (a data root mounted from btrfs): the snapshot
            // goes inside it; a nested subvolume is never part of a snapshot of its parent
            return volume.mountpoint().resolve(SNAPSHOTS_DIR).resolve(beside.getFileName());
        }
        return beside;
    }

    /** {@code <parent>/.fleet-snapshots/<volume>@<tag>}, names checked. */
    static Path besideVolume(VolumeLocation volume, String tag) {
        CowNames.component("tag", tag);
        String name = volume.volume() + "@" + tag; // both allow-listed: no '/', no '@', no leading '.' or '-'
        if (name.length() > CowNames.BTRFS_NAME_MAX) {
            throw new InvalidInputException("tag", tag, "makes the snapshot name longer than " + CowNames.BTRFS_NAME_MAX);
        }
        Path parent = volume.mountpoint().getParent();
        if (parent == null) {
            throw new InvalidInputException("mountpoint", volume.mountpoint().toString(), "must not be the root directory");
        }
        return parent.resolve(SNAPSHOTS_DIR).resolve(name);
    }

    /** True when both paths are on one btrfs filesystem (a snapshot can be made from one into the other). */
    private static boolean sameBtrfs(Path a, Path b) {
        try {
            var table = dev.fleet.migration.storage.cow.internal.MountTable.current();
            var ma = table.holding(a.toRealPath());
            var mb = table.holding(b.toRealPath());
            return ma.isPresent() && mb.isPresent() && "btrfs".equals(ma.get().fsType())
                    && ma.get().source().equals(mb.get().source());
        } catch (IOException | RuntimeException e) {
            return true; // cannot tell (it may not exist yet): keep the usual place
        }
    }

    /** The snapshot's path, after checking it is one of ours: never the volume, never elsewhere. */
    private static Path ownSnapshot(VolumeSnapshot s) {
        Path expected = snapshotPath(s.volume(), s.tag());
        if (!s.path().equals(expected)) {
            throw new InvalidInputException("snapshot.path", s.path().toString(), "must be " + expected);
        }
        return expected;
    }

    private void undoReceive(RuntimeException failure, Path dst, Path incoming, Path fresh, Path old) {
        try {
            if (fresh != null && Files.exists(fresh, LinkOption.NOFOLLOW_LINKS)) {
                deleteSubvolume(fresh);
            }
            if (old != null && Files.exists(old, LinkOption.NOFOLLOW_LINKS) && !Files.exists(dst, LinkOption.NOFOLLOW_LINKS)) {
                Files.move(old, dst, StandardCopyOption.ATOMIC_MOVE);
                Files.deleteIfExists(old.getParent());
            }
            deleteBase(incoming);
            Trees.removeIfEmpty(incoming.getParent());
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /** Deletes a base directory: the subvolume(s) btrfs receive made in it, then the directory. */
    private void deleteBase(Path dir) throws IOException {
        for (Path sub : Trees.children(dir)) {
            deleteSubvolume(sub);
        }
        Files.deleteIfExists(dir);
    }

    /** Deletes a subvolume; gone already (another thread dropping the same bases) is fine. */
    private void deleteSubvolume(Path p) {
        Command.Result r = btrfs("receive", "subvolume", "delete", "--", p.toString()).result();
        if (!r.ok() && Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new NodeOperationException(node, "release", "btrfs subvolume delete " + p + " exited with status "
                    + r.exitCode() + ": " + r.stderr().strip());
        }
    }

    private Command btrfs(String operation, String... args) {
        List<String> argv = new ArrayList<>(args.length + 1);
        argv.add(program);
        argv.addAll(List.of(args));
        return Command.of(node, operation, argv);
    }
}
