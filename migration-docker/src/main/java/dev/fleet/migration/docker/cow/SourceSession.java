package dev.fleet.migration.docker.cow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.spi.VolumeLocation;
import dev.fleet.migration.core.spi.VolumeSnapshot;
import dev.fleet.migration.docker.archive.VolumeTarWriter;
import dev.fleet.migration.storage.cow.BtrfsSnapshotter;
import dev.fleet.migration.storage.cow.PoolKind;
import dev.fleet.migration.storage.cow.PoolSnapshotter;
import dev.fleet.migration.storage.cow.ZfsSnapshotter;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongConsumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * One migration's snapshots on the source, from the change fence until the migration ends. The
 * first snapshot ({@code <migration>-first}) is what the archive's volume entry is read from (or
 * the native full stream sent from); the final one ({@code <migration>-final}) is taken at cutover,
 * after the app stopped, and the final delta is the difference between the two: an incremental
 * native stream, or a portable delta found by comparing the two read-only trees (a path whose
 * inode, size, mtime, ctime, mode or owner differ, or that is new; deletions are the paths only the
 * first has). Comparing snapshots instead of a clock fence catches every change, whatever the
 * file's timestamps say.
 *
 * <p>What it holds is saved in {@code <migration>.cow-state.json} after each snapshot, so an agent
 * restarted in between still finds and releases them. Not thread-safe: one migration's operations
 * run one at a time.
 */
public final class SourceSession {
    static final String FIRST = "first";
    static final String FINAL = "final";

    private final CowStorage storage;
    private final MigrationId migration;
    private final NodeId target;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    private static final class Entry {
        final String volume;
        final PoolKind kind;
        final Path holder;
        final String relative;
        final boolean nativeStream;
        final Map<String, VolumeSnapshot> snapshots = new LinkedHashMap<>();

        Entry(String volume, PoolKind kind, Path holder, String relative, boolean nativeStream) {
            this.volume = volume;
            this.kind = kind;
            this.holder = holder;
            this.relative = relative;
            this.nativeStream = nativeStream;
        }

        VolumeLocation location() {
            return new VolumeLocation(volume, holder);
        }

        Path root(String which) {
            VolumeSnapshot s = snapshots.get(which);
            if (s == null) {
                throw new IllegalStateException("volume " + volume + " has no " + which + " snapshot");
            }
            return relative.isEmpty() ? s.path() : s.path().resolve(relative);
        }
    }

    SourceSession(CowStorage storage, MigrationId migration, NodeId target) {
        this.storage = storage;
        this.migration = migration;
        this.target = target;
    }

    void add(VolumeBackend b, boolean nativeStream) {
        entries.put(b.volume(), new Entry(b.volume(), b.kind().orElseThrow(), b.holder().orElseThrow(), b.relative(),
                nativeStream));
    }

    /** The volumes this session snapshots, in order. */
    public Set<String> volumes() {
        return entries.keySet();
    }

    /** True when {@code volume} is on a pool and snapshotted by this session. */
    public boolean covers(String volume) {
        return entries.containsKey(volume);
    }

    /** True when {@code volume} travels as a native send stream, its archive entry only a stub. */
    public boolean sendsNatively(String volume) {
        Entry e = entries.get(volume);
        return e != null && e.nativeStream;
    }

    /** Where the archive's portable entry of {@code volume} is read: its first snapshot. */
    public Optional<Path> readRoot(String volume) {
        Entry e = entries.get(volume);
        return e == null || e.nativeStream ? Optional.empty() : Optional.of(e.root(FIRST));
    }

    static String tag(MigrationId m, String which) {
        return m.value() + "-" + which;
    }

    /**
     * Takes snapshot {@code which} of every volume as one group. Volumes held by the same
     * subvolume or dataset (directories in a data root on btrfs, say) share one snapshot of it, so
     * they are captured at exactly one instant. Snapshots of different subvolumes or datasets are
     * all started at once, each on a thread of its own, instead of one after the other: neither
     * {@code btrfs} nor zfs-fuse can snapshot several of them atomically, so a group of separate
     * subvolumes is only as close in time as the pool lets them be (the spread is logged). If any
     * fails, the others taken are still recorded, so {@link #release} removes them.
     */
    void takeSnapshots(String which) {
        String tag = tag(migration, which);
        Map<String, List<Entry>> groups = new LinkedHashMap<>(); // by pool kind and holder, in order
        for (Entry e : entries.values()) {
            groups.computeIfAbsent(e.kind.wireName() + ":" + e.holder, k -> new ArrayList<>()).add(e);
        }
        // a retried operation may find snapshots an interrupted attempt took but never recorded
        for (List<Entry> group : groups.values()) {
            for (Entry e : group) {
                PoolSnapshotter s = storage.snapshotters.get(e.kind);
                VolumeSnapshot recorded = e.snapshots.remove(which);
                if (recorded != null) {
                    s.release(recorded);
                }
                Path shown = e.kind == PoolKind.BTRFS ? BtrfsSnapshotter.snapshotPath(e.location(), tag)
                        : ZfsSnapshotter.snapshotPath(e.location(), tag);
                s.release(new VolumeSnapshot(e.location(), tag, shown, storage.clock.instant(), s.name()));
            }
        }
        List<List<Entry>> list = List.copyOf(groups.values());
        List<Object> taken = new ArrayList<>(list.size()); // a VolumeSnapshot or the RuntimeException
        if (list.size() == 1) {
            taken.add(snapshotOf(list.get(0).get(0), tag));
        } else if (!list.isEmpty()) {
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.CompletableFuture<Object>> running = new ArrayList<>();
            for (List<Entry> group : list) {
                java.util.concurrent.CompletableFuture<Object> f = new java.util.concurrent.CompletableFuture<>();
                Thread t = new Thread(() -> {
                    try {
                        go.await();
                        f.complete(snapshotOf(group.get(0), tag));
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                        f.complete(new NodeOperationException(storage.node, "snapshot", "interrupted"));
                    } catch (Throwable ex) {
                        f.complete(ex);
                    }
                }, "fleet-snapshot-" + group.get(0).volume);
                t.setDaemon(true);
                t.start();
                running.add(f);
            }
            go.countDown();
            for (var f : running) {
                taken.add(f.join());
            }
        }
        RuntimeException failure = null;
        Instant first = null;
        Instant last = null;
        for (int i = 0; i < list.size(); i++) {
            Object r = taken.get(i);
            if (r instanceof VolumeSnapshot snap) {
                for (Entry e : list.get(i)) {
                    e.snapshots.put(which, snap);
                }
                first = first == null || snap.takenAt().isBefore(first) ? snap.takenAt() : first;
                last = last == null || snap.takenAt().isAfter(last) ? snap.takenAt() : last;
                continue;
            }
            RuntimeException ex = r instanceof RuntimeException re ? re
                    : new NodeOperationException(storage.node, "snapshot", "snapshot of " + list.get(i).get(0).holder
                            + " failed: " + r, (Throwable) r);
            if (failure == null) {
                failure = ex;
            } else {
                failure.addSuppressed(ex);
            }
        }
        save();
        if (failure != null) {
            throw failure;
        }
        if (!entries.isEmpty()) {
            CowStorage.log.info("node {}: {} snapshots of {} for {}: {} snapshot(s), taken within {} ms", storage.node,
                    which, entries.keySet(), migration, list.size(),
                    java.time.Duration.between(first, last).toMillis());
        }
    }

    /** The snapshot of {@code e}'s subvolume or dataset, shown under {@code e}'s volume name. */
    private VolumeSnapshot snapshotOf(Entry e, String tag) {
        return storage.snapshotters.get(e.kind).snapshot(e.location(), tag);
    }

    /** Takes the final snapshots; called by STOP_SOURCE once the app has stopped. */
    public void takeFinalSnapshots() {
        takeSnapshots(FINAL);
    }

    /**
     * The archive entry of a volume that travels natively: a tar holding only the volume's root,
     * so the archive lists every volume and any reader accepts it.
     */
    public void writeStub(String volume, OutputStream out) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                out.flush();
            }
        }, StandardCharsets.UTF_8.name());
        TarArchiveEntry root = new TarArchiveEntry("./", TarConstants.LF_DIR, false);
        root.setMode(040755);
        root.setUserName("");
        root.setGroupName("");
        tar.putArchiveEntry(root);
        tar.closeArchiveEntry();
        tar.finish();
        tar.flush();
    }

    /**
     * Writes the native streams of the volumes that travel natively ({@code phase} full: of the
     * first snapshot; delta: of the final one, incremental against the first) and their list.
     * Called by SNAPSHOT and STOP_SOURCE; returns the files to push, streams first, list last.
     */
    public List<Path> writeStreams(String phase, LongConsumer progress) throws IOException {
        List<StreamList.Stream> streams = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        for (Entry e : entries.values()) {
            if (!e.nativeStream) {
                continue;
            }
            PoolSnapshotter s = storage.snapshotters.get(e.kind);
            Path file = storage.streamFile(migration, e.volume, phase);
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            MessageDigest sha = dev.fleet.migration.docker.archive.Digests.sha256();
            long[] size = {0};
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
                 OutputStream out = new DigestOutputStream(new BufferedOutputStream(new CountingOutputStream(
                         java.nio.channels.Channels.newOutputStream(ch), n -> {
                             size[0] += n;
                             progress.accept(n);
                         }), 1 << 20), sha)) {
                if (phase.equals(CowStorage.FULL)) {
                    s.send(snapshot(e, FIRST), Optional.empty(), out);
                } else {
                    s.send(snapshot(e, FINAL), Optional.of(snapshot(e, FIRST)), out);
                }
                out.flush();
                ch.force(true);
            } catch (IOException | RuntimeException ex) {
                Files.deleteIfExists(tmp);
                throw ex;
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            streams.add(new StreamList.Stream(migration, e.volume, phase, e.kind, size[0],
                    HexFormat.of().formatHex(sha.digest())));
            files.add(file);
            CowStorage.log.info("node {}: native {} stream of {} for {}: {} bytes", storage.node, phase, e.volume,
                    migration, size[0]);
        }
        if (!streams.isEmpty()) {
            files.add(new StreamList(streams).write(storage, migration, phase));
        }
        return files;
    }

    /** Pushes what {@link #writeStreams} wrote for {@code phase}, streams first, list last. */
    public void push(String phase, CowStorage.Pusher pusher) {
        StreamList list = StreamList.read(storage, migration, phase);
        for (StreamList.Stream s : list.streams()) {
            pusher.push(storage.streamFile(migration, s.volume(), phase), s.sha256());
        }
        if (!list.streams().isEmpty()) {
            Path file = storage.listFile(migration, phase);
            pusher.push(file, dev.fleet.migration.docker.archive.Digests.ofFile(file));
        }
    }

    /**
     * The portable final delta of {@code volume}: what differs between its two snapshots, as a
     * volume tar into {@code out}, and the deleted paths (topmost only) into {@code deletions}. A
     * volume that travels natively gets a stub here; its delta is the incremental stream.
     *
     * @return the number of entries written
     */
    public long writeDelta(String volume, OutputStream out, Map<String, List<String>> deletions,
                           LongConsumer progress) throws IOException {
        Entry e = entries.get(volume);
        if (e.nativeStream) {
            writeStub(volume, out);
            return 0;
        }
        Path before = e.root(FIRST);
        Path after = e.root(FINAL);
        Set<String> now = new HashSet<>();
        VolumeTarWriter.Stats stats = new VolumeTarWriter(after, (rel, when) -> rel.isEmpty() || changed(before, after, rel),
                now::add, progress).write(out);
        List<String> gone = new ArrayList<>();
        Files.walkFileTree(before, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                String rel = before.relativize(dir).toString();
                if (!rel.isEmpty() && !now.contains(rel)) {
                    gone.add(rel);
                    return FileVisitResult.SKIP_SUBTREE; // deleting a directory deletes its tree
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String rel = before.relativize(file).toString();
                if (!now.contains(rel)) {
                    gone.add(rel);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        if (!gone.isEmpty()) {
            gone.sort(null);
            deletions.put(volume, gone);
        }
        return stats.entries();
    }

    private static final String ATTRS = "unix:ino,size,lastModifiedTime,ctime,mode,uid,gid,nlink";

    /** True when {@code rel} is new in {@code after} or any of its attributes differ from {@code before}'s. */
    static boolean changed(Path before, Path after, String rel) {
        try {
            Map<String, Object> a = Files.readAttributes(before.resolve(rel), ATTRS, LinkOption.NOFOLLOW_LINKS);
            Map<String, Object> b = Files.readAttributes(after.resolve(rel), ATTRS, LinkOption.NOFOLLOW_LINKS);
            return !a.equals(b);
        } catch (NoSuchFileException gone) {
            return true;
        } catch (IOException e) {
            return true; // when in doubt, send it
        }
    }

    /** Releases every snapshot of this session and forgets it; idempotent. Returns what it did. */
    public List<String> release() {
        List<String> actions = new ArrayList<>();
        RuntimeException failure = null;
        Set<Path> released = new HashSet<>(); // volumes sharing a subvolume or dataset share its snapshot
        for (Entry e : entries.values()) {
            PoolSnapshotter s = storage.snapshotters.get(e.kind);
            for (VolumeSnapshot snap : e.snapshots.values()) {
                if (!released.add(snap.path())) {
                    continue;
                }
                try {
                    s.release(snap);
                    actions.add("released " + e.kind.wireName() + " snapshot " + snap.tag() + " of volume " + e.volume);
                } catch (RuntimeException ex) {
                    if (failure == null) {
                        failure = ex;
                    } else {
                        failure.addSuppressed(ex);
                    }
                }
            }
        }
        if (failure != null) {
            save(); // keep the record: a later compensation retries
            throw failure;
        }
        for (Entry e : entries.values()) {
            for (VolumeSnapshot snap : e.snapshots.values()) {
                try {
                    Files.deleteIfExists(snap.path().getParent()); // .fleet-snapshots, once empty
                } catch (IOException notEmptyOrBusy) {
                    // another volume's snapshots are still shown there: leave it
                }
            }
        }
        try {
            Files.deleteIfExists(storage.stateFile(migration));
            for (Entry e : entries.values()) {
                // pushed: not needed here. The full stream is as big as the volume, and unlinking it
                // takes time in proportion (0.26 ms/MiB on an ext4 mounted with discard: a second for
                // 4 GiB). STOP_SOURCE calls this while the app is down, so the full stream is only
                // renamed out of the way here, and unlinked later on a thread of its own
                discard(storage.streamFile(migration, e.volume, CowStorage.FULL));
                Files.deleteIfExists(storage.streamFile(migration, e.volume, CowStorage.DELTA));
            }
        } catch (IOException ex) {
            throw new NodeOperationException(storage.node, "release", "cannot remove the snapshot record of "
                    + migration + ": " + ex.getMessage(), ex);
        }
        entries.clear();
        return actions;
    }

    /** How long {@link #discard} waits before it unlinks: until the cutover has normally ended. */
    static final java.time.Duration DISCARD_DELAY = java.time.Duration.ofSeconds(5);

    /**
     * Removes {@code file} without waiting for the file system to free its blocks: renames it to
     * {@code .<name>.released-<nanos>} (hidden, and still the migration's: a compensation or the
     * retention sweep removes it should the unlink never happen) and unlinks that on a daemon
     * thread after {@link #DISCARD_DELAY}. The delay keeps the freeing of a large file's blocks out
     * of the target's start when both share a disk (as a pool on a loop file and the archive
     * directories do on a test host): the journal commits of an ext4 freeing gigabytes hold up
     * every fsync on it.
     */
    static void discard(Path file) throws IOException {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path doomed = file.resolveSibling("." + file.getFileName() + ".released-" + System.nanoTime());
        Files.move(file, doomed, StandardCopyOption.ATOMIC_MOVE);
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(DISCARD_DELAY.toMillis());
                Files.deleteIfExists(doomed);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // left to the retention sweep
            } catch (IOException e) {
                CowStorage.log.warn("could not remove {}: {} (the retention sweep will)", doomed, e.toString());
            }
        }, "fleet-cow-discard");
        t.setDaemon(true);
        t.start();
    }

    private VolumeSnapshot snapshot(Entry e, String which) {
        VolumeSnapshot s = e.snapshots.get(which);
        if (s == null) {
            throw new NodeOperationException(storage.node, "snapshot", "volume " + e.volume + " has no " + which
                    + " snapshot for " + migration);
        }
        return s;
    }

    private void save() {
        ObjectNode root = CowStorage.JSON.createObjectNode().put("migration", migration.value())
                .put("target", target.value());
        ArrayNode list = root.putArray("volumes");
        for (Entry e : entries.values()) {
            ObjectNode v = list.addObject().put("volume", e.volume).put("kind", e.kind.wireName())
                    .put("holder", e.holder.toString()).put("relative", e.relative).put("native", e.nativeStream);
            ObjectNode snaps = v.putObject("snapshots");
            e.snapshots.forEach((which, s) -> snaps.putObject(which).put("tag", s.tag()).put("path", s.path().toString())
                    .put("takenAt", s.takenAt().toString()).put("owner", s.volume().volume()));
        }
        Path file = storage.stateFile(migration);
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, CowStorage.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException ex) {
            throw new NodeOperationException(storage.node, "snapshot", "cannot record the snapshots of " + migration
                    + " in " + file + ": " + ex.getMessage(), ex);
        }
    }

    static SourceSession load(CowStorage storage, MigrationId m) {
        Path file = storage.stateFile(m);
        if (!Files.isRegularFile(file)) {
            return new SourceSession(storage, m, NodeId.of("unknown"));
        }
        try {
            JsonNode root = CowStorage.JSON.readTree(file.toFile());
            SourceSession s = new SourceSession(storage, m, NodeId.of(root.path("target").asText("unknown")));
            for (JsonNode v : root.path("volumes")) {
                Entry e = new Entry(v.path("volume").asText(), PoolKind.of(v.path("kind").asText()),
                        Path.of(v.path("holder").asText()), v.path("relative").asText(), v.path("native").asBoolean());
                for (var it = v.path("snapshots").fields(); it.hasNext(); ) {
                    var f = it.next();
                    // the volume the snapshot was taken under: another volume of the same holder when shared
                    String owner = f.getValue().path("owner").asText(e.volume);
                    dev.fleet.migration.core.Names.require("owner", owner, dev.fleet.migration.core.Names.DOCKER_NAME,
                            dev.fleet.migration.core.Names.DOCKER_NAME_MAX);
                    e.snapshots.put(f.getKey(), new VolumeSnapshot(new VolumeLocation(owner, e.holder),
                            f.getValue().path("tag").asText(),
                            Path.of(f.getValue().path("path").asText()), Instant.parse(f.getValue().path("takenAt").asText()),
                            e.kind.wireName()));
                }
                s.entries.put(e.volume, e);
            }
            return s;
        } catch (IOException | RuntimeException ex) {
            throw new NodeOperationException(storage.node, "snapshot", "cannot read the snapshot record " + file + ": "
                    + ex.getMessage(), ex);
        }
    }

    /** Counts bytes on their way out. */
    private static final class CountingOutputStream extends FilterOutputStream {
        private final LongConsumer counted;

        CountingOutputStream(OutputStream out, LongConsumer counted) {
            super(out);
            this.counted = Objects.requireNonNull(counted);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            counted.accept(len);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            counted.accept(1);
        }
    }
}
