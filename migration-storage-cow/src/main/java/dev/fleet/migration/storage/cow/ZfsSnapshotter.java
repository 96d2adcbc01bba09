package dev.fleet.migration.storage.cow;

import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.spi.Snapshotter;
import dev.fleet.migration.core.spi.VolumeLocation;
import dev.fleet.migration.core.spi.VolumeSnapshot;
import dev.fleet.migration.storage.cow.internal.Command;
import dev.fleet.migration.storage.cow.internal.CowNames;
import dev.fleet.migration.storage.cow.internal.MountTable;
import dev.fleet.migration.storage.cow.internal.StreamHeaders;
import dev.fleet.migration.storage.cow.internal.Trees;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Snapshots volumes whose mountpoint is the mountpoint of a ZFS dataset (directly, or through a
 * bind mount of the whole dataset, as a Docker {@code local} volume bound to a dataset path is),
 * with the {@code zfs} program. Works with OpenZFS and with zfs-fuse (pool version 23).
 *
 * <ul>
 *   <li>{@link #supports}: the mount table shows a {@code zfs} or {@code fuse.zfs} mount of a
 *       whole dataset exactly at the mountpoint, its name passes our allow-list (stricter than
 *       ZFS: no spaces or colons, see {@link CowNames}), and {@code zfs list} knows it.</li>
 *   <li>{@link #snapshot}: {@code zfs snapshot dataset@tag}, atomic and O(1). zfs-fuse has no
 *       {@code .zfs/snapshot} directory, so the snapshot is shown through a read-only clone,
 *       {@code <pool>/fleet-views/<tag>-<hash>}, mounted at
 *       {@code <parent>/.fleet-snapshots/<volume>@<tag>} (same place as btrfs). A clone is O(1)
 *       too. zfs-fuse mounts a new clone read-write even with {@code readonly=on} (appends get
 *       through), so the clone is unmounted at once and mounted again with {@code zfs mount -o ro};
 *       the kernel's read-only mount flag is checked afterwards. The instant is the daemon's:
 *       zfs-fuse gets a write(2) that crosses a 4 KiB page boundary as two FUSE requests, so a
 *       snapshot can hold the first part of such a write and not the rest, as a power cut at
 *       that instant could (a database's own log copes with that; kernel ZFS applies each
 *       write whole).</li>
 *   <li>{@link #send}: {@code zfs send [-i parent] dataset@tag}.</li>
 *   <li>{@link #receive}: a full stream goes to {@code zfs receive -u} under a temporary name
 *       beside the destination dataset, then is renamed into place and mounted at the destination
 *       path; on failure the temporary dataset is destroyed. An incremental stream goes to
 *       {@code zfs receive -F} on the destination dataset, which ZFS applies atomically (a failed
 *       one leaves the dataset as it was).</li>
 * </ul>
 *
 * <p>{@code zfs set} takes no {@code --} (it does not parse options); its operands are
 * allow-listed and can never start with {@code -}. Threads: safe for concurrent use on different
 * volumes.
 */
public final class ZfsSnapshotter implements PoolSnapshotter {
    /** The dataset under each pool that holds the read-only clones showing snapshots. */
    public static final String VIEWS_DATASET = "fleet-views";
    private static final Set<String> ZFS_TYPES = Set.of("zfs", "fuse.zfs");
    private static final int DESTROY_ATTEMPTS = 20;
    private static final System.Logger LOG = System.getLogger(ZfsSnapshotter.class.getName());

    private final NodeId node;
    private final Clock clock;
    private final String program;

    /** Uses the {@code zfs} program found on the PATH. */
    public ZfsSnapshotter(NodeId node, Clock clock) {
        this(node, clock, "zfs");
    }

    /** Uses {@code program} (an absolute path, or a name looked up on the PATH) as {@code zfs}. */
    public ZfsSnapshotter(NodeId node, Clock clock, String program) {
        this.node = Objects.requireNonNull(node, "node");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.program = Objects.requireNonNull(program, "program");
    }

    @Override
    public String name() {
        return "zfs";
    }

    @Override
    public PoolKind kind() {
        return PoolKind.ZFS;
    }

    /** The mountpoint of the whole, allow-listed dataset whose mount holds {@code path}. */
    @Override
    public Optional<Path> holderOf(Path path) {
        Path real;
        try {
            real = path.toRealPath();
        } catch (IOException e) {
            return Optional.empty();
        }
        return MountTable.current().holding(real)
                .filter(m -> ZFS_TYPES.contains(m.fsType()) && m.root().equals("/"))
                .map(MountTable.Mount::mountPoint)
                .filter(mp -> datasetAt(mp).isPresent());
    }

    @Override
    public void createVolume(Path at) {
        String leaf = CowNames.leaf("volume path", at);
        if (Files.exists(at, LinkOption.NOFOLLOW_LINKS)) {
            throw new NodeOperationException(node, "create", at + " already exists");
        }
        Path parent = realParent(at);
        MountTable.Mount holder = MountTable.current().holding(parent)
                .filter(m -> ZFS_TYPES.contains(m.fsType()) && m.root().equals("/"))
                .orElseThrow(() -> new NodeOperationException(node, "create", "the directory " + parent
                        + " is not on a ZFS dataset"));
        String target = CowNames.dataset("dataset", CowNames.dataset("dataset", holder.source()) + "/" + leaf);
        if (holder.mountPoint().equals(parent)) {
            zfs("create", "create", "--", target).run();
        } else {
            zfs("create", "create", "-o", "mountpoint=" + CowNames.propertyPath("volume path", at), "--", target).run();
        }
    }

    @Override
    public void destroyVolume(Path at) {
        CowNames.leaf("volume path", at);
        if (!Files.exists(at, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        String ds = datasetAt(at).orElseThrow(() -> new NodeOperationException(node, "destroy", at
                + " is not the mountpoint of a ZFS dataset; refusing to delete it"));
        destroyRecursively(ds);
        Trees.removeIfEmpty(at);
    }

    @Override
    public boolean supports(VolumeLocation volume) {
        Optional<String> ds = datasetAt(volume.mountpoint());
        return ds.isPresent() && exists(ds.get(), "filesystem");
    }

    @Override
    public VolumeSnapshot snapshot(VolumeLocation volume, String tag) {
        String ds = datasetOf(volume, "snapshot");
        String snap = CowNames.zfsSnapshot(ds, tag);
        String view = viewDataset(ds, tag);
        Path path = snapshotPath(volume, tag);
        String mountpoint = CowNames.propertyPath("snapshot path", path);
        if (exists(snap, "snapshot")) {
            throw new NodeOperationException(node, "snapshot", "snapshot " + snap + " already exists; tags are unique per volume");
        }
        ensureViewsDataset(pool(ds));
        var takenAt = clock.instant(); // no later than the snapshot's instant: change detection counts on it
        zfs("snapshot", "snapshot", "--", snap).run();
        try {
            // zfs-fuse mounts a new clone read-write whatever its readonly property says (appends
            // get through) and ignores canmount=noauto there, so the clone is unmounted again and
            // mounted by zfs mount -o ro, and the kernel's read-only flag on the mount is checked
            zfs("snapshot", "clone", "-o", "readonly=on", "-o", "mountpoint=" + mountpoint, "--", snap, view).run();
            if (mountAt(path).filter(m -> m.source().equals(view)).map(MountTable.Mount::readOnly).orElse(true) == false) {
                zfs("snapshot", "umount", "--", view).run();
            }
            if (mountAt(path).isEmpty()) {
                zfs("snapshot", "mount", "-o", "ro", "--", view).run();
            }
            MountTable.Mount m = mountAt(path).orElseThrow(() -> new NodeOperationException(node, "snapshot",
                    "the read-only clone " + view + " of " + snap + " is not mounted at " + path));
            if (!m.readOnly() || !m.source().equals(view)) {
                throw new NodeOperationException(node, "snapshot", path + " shows " + m.source() + " with options "
                        + m.options() + ", expected " + view + " mounted read-only");
            }
        } catch (RuntimeException e) {
            try {
                destroy(view);
                destroy(snap);
                Trees.removeIfEmpty(path);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return new VolumeSnapshot(volume, tag, path, takenAt, name());
    }

    @Override
    public void send(VolumeSnapshot snapshot, Optional<VolumeSnapshot> parent, OutputStream out) {
        String ds = datasetOf(snapshot.volume(), "send");
        List<String> argv = new ArrayList<>(List.of("send"));
        parent.ifPresent(p -> {
            String pds = datasetOf(p.volume(), "send");
            if (!pds.equals(ds)) {
                throw new InvalidInputException("parent", p.tag(), "must be a snapshot of " + ds + ", not of " + pds);
            }
            argv.add("-i");
            argv.add(CowNames.zfsSnapshot(ds, p.tag()));
        });
        argv.add("--");
        argv.add(CowNames.zfsSnapshot(ds, snapshot.tag()));
        zfs("send", argv.toArray(String[]::new)).streamTo(out);
    }

    @Override
    public void receive(InputStream in, VolumeLocation destination) {
        Path dst = destination.mountpoint();
        String leaf = CowNames.leaf("destination", dst);
        byte[] head;
        StreamHeaders.Kind kind;
        try {
            head = StreamHeaders.readHead(in, StreamHeaders.ZFS_PEEK);
            kind = StreamHeaders.zfs(head);
        } catch (IOException e) {
            throw new NodeOperationException(node, "receive", "refused the stream for " + dst + ": " + e.getMessage(), e);
        }
        InputStream stream = new SequenceInputStream(new ByteArrayInputStream(head), in);
        if (kind == StreamHeaders.Kind.INCREMENTAL) {
            String target = datasetAt(dst).orElseThrow(() -> new NodeOperationException(node, "receive",
                    "an incremental stream updates a dataset received before, but no dataset is mounted at " + dst));
            // -F: roll back anything written since the last receive; ZFS applies the stream
            // atomically, so a failure leaves the dataset as it was
            zfs("receive", "receive", "-F", "--", target).streamFrom(stream);
            if (mountAt(dst).map(m -> m.fsType().equals("fuse.zfs")).orElse(false)) {
                // zfs-fuse does not invalidate the kernel's page cache of files the stream changed:
                // remount, so readers see the received data and not what they cached before
                zfs("receive", "umount", "--", target).run();
                zfs("receive", "mount", "--", target).run();
            }
            return;
        }
        if (Files.exists(dst, LinkOption.NOFOLLOW_LINKS)) {
            throw new NodeOperationException(node, "receive", "a full stream creates a new volume, but " + dst + " exists");
        }
        Path parent = realParent(dst);
        MountTable.Mount holder = MountTable.current().holding(parent)
                .filter(m -> ZFS_TYPES.contains(m.fsType()) && m.root().equals("/"))
                .orElseThrow(() -> new NodeOperationException(node, "receive", "the destination's directory " + parent
                        + " is not on a ZFS dataset"));
        String container = CowNames.dataset("dataset", holder.source());
        String target = CowNames.dataset("destination dataset", container + "/" + leaf);
        String temp = CowNames.dataset("temporary dataset",
                container + "/" + leaf + "-receiving-" + UUID.randomUUID().toString().substring(0, 8));
        boolean inherits = holder.mountPoint().equals(parent);
        if (exists(target, "all")) {
            throw new NodeOperationException(node, "receive", "dataset " + target + " already exists");
        }
        boolean renamed = false;
        try {
            zfs("receive", "receive", "-u", "--", temp).streamFrom(stream);
            zfs("receive", "rename", "--", temp, target).run();
            renamed = true;
            if (!inherits) {
                zfs("receive", "set", "mountpoint=" + CowNames.propertyPath("destination", dst), target).run();
            }
            if (!target.equals(datasetAt(dst).orElse(null))) {
                zfs("receive", "mount", "--", target).run();
            }
        } catch (RuntimeException e) {
            try {
                destroyRecursively(temp);
                if (renamed) {
                    destroyRecursively(target); // we checked it did not exist: it is ours
                }
                Trees.removeIfEmpty(dst);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    @Override
    public void release(VolumeSnapshot snapshot) {
        Path path = snapshotPath(snapshot.volume(), snapshot.tag());
        if (!snapshot.path().equals(path)) {
            throw new InvalidInputException("snapshot.path", snapshot.path().toString(), "must be " + path);
        }
        String snap = null;
        String view = null;
        // the view mounted at the path names its origin exactly, even if the volume is gone
        Optional<String> mountedView = datasetAt(path);
        if (mountedView.isPresent()) {
            String origin = zfs("release", "get", "-H", "-o", "value", "origin", "--", mountedView.get()).run().strip();
            int at = origin.indexOf('@');
            if (at > 0 && mountedView.get().equals(viewDataset(origin.substring(0, at), snapshot.tag()))) {
                snap = CowNames.zfsSnapshot(origin.substring(0, at), snapshot.tag());
                view = mountedView.get();
            }
        }
        if (snap == null) {
            Optional<String> ds = datasetAt(snapshot.volume().mountpoint());
            if (ds.isEmpty()) {
                if (Files.exists(path, LinkOption.NOFOLLOW_LINKS) && !Trees.isEmptyDirectory(path)) {
                    throw new NodeOperationException(node, "release", "cannot tell which dataset " + path
                            + " belongs to: neither its view nor volume " + snapshot.volume().volume() + " is mounted");
                }
                Trees.removeIfEmpty(path);
                return; // nothing of it is left that we can find
            }
            snap = CowNames.zfsSnapshot(ds.get(), snapshot.tag());
            view = viewDataset(ds.get(), snapshot.tag());
        }
        destroy(view);
        destroy(snap);
        Trees.removeIfEmpty(path);
    }

    /**
     * Destroys the snapshots {@link #receive} left on the dataset at {@code destination} (they are
     * what a later incremental stream is applied to). Call it on the target once the migration has
     * ended, whichever way; the dataset itself and its data stay. Idempotent.
     */
    @Override
    public void releaseReceived(VolumeLocation destination) {
        releaseReceived(destination, tag -> true);
    }

    /**
     * Destroys the snapshots of the dataset at {@code destination} whose tag {@code tags} accepts:
     * a received snapshot keeps the tag it had on the source, so the tags of the migration that
     * placed the dataset pick exactly what its receives left, and never
     * a snapshot a later migration of the same volume takes as its source.
     */
    @Override
    public void releaseReceived(VolumeLocation destination, java.util.function.Predicate<String> tags) {
        Optional<String> ds = datasetAt(destination.mountpoint());
        if (ds.isEmpty()) {
            return;
        }
        String out = zfs("release", "list", "-H", "-o", "name", "-t", "snapshot", "-r", "--", ds.get()).run();
        for (String line : out.split("\n")) {
            String name = line.strip();
            if (name.startsWith(ds.get() + "@") && tags.test(name.substring(ds.get().length() + 1))) {
                destroy(name);
            }
        }
    }

    /** Where the snapshot {@code tag} of {@code volume} is (or would be) shown. */
    public static Path snapshotPath(VolumeLocation volume, String tag) {
        return BtrfsSnapshotter.besideVolume(volume, tag);
    }

    /** The ZFS mount of a whole dataset exactly at {@code mountpoint}, if there is one. */
    private static Optional<MountTable.Mount> mountAt(Path mountpoint) {
        Path real;
        try {
            real = mountpoint.toRealPath();
        } catch (IOException e) {
            return Optional.empty();
        }
        return MountTable.current().at(real).filter(m -> ZFS_TYPES.contains(m.fsType()) && m.root().equals("/"));
    }

    /** The dataset mounted (whole) exactly at {@code mountpoint}, if its name passes the allow-list. */
    public Optional<String> datasetAt(Path mountpoint) {
        return mountAt(mountpoint)
                .map(MountTable.Mount::source)
                .filter(s -> CowNames.DATASET.matcher(s).matches() && s.length() <= CowNames.ZFS_NAME_MAX
                        && !s.contains("/.") && !s.contains(".."));
    }

    private String datasetOf(VolumeLocation volume, String operation) {
        return datasetAt(volume.mountpoint()).orElseThrow(() -> new NodeOperationException(node, operation,
                "volume " + volume.volume() + " at " + volume.mountpoint() + " is not the mountpoint of a ZFS dataset"
                        + " (or its name is outside [a-zA-Z0-9_.-])"));
    }

    private static String pool(String dataset) {
        int slash = dataset.indexOf('/');
        return slash < 0 ? dataset : dataset.substring(0, slash);
    }

    /** {@code <pool>/fleet-views/<tag>-<12 hex of sha256(dataset@tag)>}: unique, bounded, readable. */
    static String viewDataset(String dataset, String tag) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest((dataset + "@" + tag).getBytes(StandardCharsets.UTF_8));
            return CowNames.dataset("view dataset",
                    pool(dataset) + "/" + VIEWS_DATASET + "/" + tag + "-" + HexFormat.of().formatHex(h, 0, 6));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void ensureViewsDataset(String pool) {
        String views = pool + "/" + VIEWS_DATASET;
        if (exists(views, "filesystem")) {
            return;
        }
        Command.Result r = zfs("snapshot", "create", "-o", "canmount=off", "-o", "mountpoint=none", "--", views).result();
        if (!r.ok() && !exists(views, "filesystem")) { // another thread may have made it meanwhile
            throw new NodeOperationException(node, "snapshot", "zfs create " + views + " exited with status "
                    + r.exitCode() + ": " + r.stderr().strip());
        }
    }

    private boolean exists(String name, String type) {
        return zfs("list", "list", "-H", "-o", "name", "-t", type, "--", name).succeeds();
    }

    /** Destroys one dataset or snapshot if it exists, retrying while a just-closed mount is busy. */
    private void destroy(String name) {
        destroy(name, false);
    }

    private void destroyRecursively(String name) {
        destroy(name, true);
    }

    private void destroy(String name, boolean recursive) {
        for (int attempt = 1; ; attempt++) {
            if (!exists(name, "all")) {
                return;
            }
            Command.Result r = recursive ? zfs("destroy", "destroy", "-r", "--", name).result()
                    : zfs("destroy", "destroy", "--", name).result();
            if (r.ok() || !exists(name, "all")) {
                return;
            }
            if (attempt >= DESTROY_ATTEMPTS || !r.stderr().contains("busy")) {
                throw new NodeOperationException(node, "release", "zfs destroy " + name + " exited with status "
                        + r.exitCode() + ": " + r.stderr().strip());
            }
            LOG.log(System.Logger.Level.DEBUG, name + " is busy; retrying");
            try {
                Thread.sleep(100L * attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new NodeOperationException(node, "release", "interrupted while destroying " + name, e);
            }
        }
    }

    private static Path realParent(Path dst) {
        Path parent = dst.getParent();
        try {
            return parent.toRealPath();
        } catch (IOException e) {
            return parent;
        }
    }

    private Command zfs(String operation, String... args) {
        List<String> argv = new ArrayList<>(args.length + 1);
        argv.add(program);
        argv.addAll(List.of(args));
        return Command.of(node, operation, argv);
    }
}
