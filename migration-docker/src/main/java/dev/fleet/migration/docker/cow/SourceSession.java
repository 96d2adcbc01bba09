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

    /** Accepts exactly the tags of {@code m}'s snapshots (and so of what receives of them kept). */
    static java.util.function.Predicate<String> tagsOf(MigrationId m) {
        return t -> t.equals(tag(m, FIRST)) || t.equals(tag(m, FINAL));
    }

    static String tag(MigrationId m, String which) {
        return m.value() + "-" + which;
    }

    void takeSnapshots(String which) {
        for (Entry e : entries.values()) {
            PoolSnapshotter s = storage.snapshotters.get(e.kind);
            String tag = tag(migration, which);
            // a retried operation may find the snapshot an interrupted attempt took but never recorded
            Path shown = e.kind == PoolKind.BTRFS ? BtrfsSnapshotter.snapshotPath(e.location(), tag)
                    : ZfsSnapshotter.snapshotPath(e.location(), tag);
            s.release(new VolumeSnapshot(e.location(), tag, shown, storage.clock.instant(), s.name()));
            e.snapshots.put(which, s.snapshot(e.location(), tag));
            save();
        }
        if (!entries.isEmpty()) {
            CowStorage.log.info("node {}: {} snapshots of {} for {}", storage.node, which, entries.keySet(), migration);
        }
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
        Instant racyFrom = racyFrom(snapshot(e, FIRST).takenAt());
        Set<String> now = new HashSet<>();
        VolumeTarWriter.Stats stats = new VolumeTarWriter(after,
                (rel, when) -> rel.isEmpty() || changed(before, after, rel, racyFrom),
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

    /**
     * How far before the first snapshot a change may hide from the comparison: file times have
     * the file system's granularity (zfs-fuse reports whole seconds, so a file rewritten in
     * place, same size, in the second the snapshot was taken keeps the same mtime and ctime).
     * The recorded instant is read just before the snapshot command; two seconds before it,
     * truncated to the second, also leaves room for a file system clock a little behind.
     */
    static Instant racyFrom(Instant firstTakenAt) {
        return firstTakenAt.minusSeconds(2).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    }

    /**
     * True when {@code rel} is new in {@code after}, any of its attributes differ from
     * {@code before}'s, or its ctime in {@code before} is at or after {@code racyFrom}: then a
     * change made after the first snapshot may carry the same times (the "racily clean" case git
     * knows), so it is sent whole rather than trusted. Only what was changed just before the
     * first snapshot pays for that.
     */
    static boolean changed(Path before, Path after, String rel, Instant racyFrom) {
        try {
            Map<String, Object> a = Files.readAttributes(before.resolve(rel), ATTRS, LinkOption.NOFOLLOW_LINKS);
            Map<String, Object> b = Files.readAttributes(after.resolve(rel), ATTRS, LinkOption.NOFOLLOW_LINKS);
            if (!a.equals(b)) {
                return true;
            }
            Object ctime = a.get("ctime");
            return !(ctime instanceof java.nio.file.attribute.FileTime t) || t.toInstant().compareTo(racyFrom) >= 0;
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
        for (Entry e : entries.values()) {
            PoolSnapshotter s = storage.snapshotters.get(e.kind);
            for (VolumeSnapshot snap : e.snapshots.values()) {
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
                for (String phase : List.of(CowStorage.FULL, CowStorage.DELTA)) {
                    Files.deleteIfExists(storage.streamFile(migration, e.volume, phase)); // pushed: not needed here
                }
            }
        } catch (IOException ex) {
            throw new NodeOperationException(storage.node, "release", "cannot remove the snapshot record of "
                    + migration + ": " + ex.getMessage(), ex);
        }
        entries.clear();
        return actions;
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
                    .put("takenAt", s.takenAt().toString()));
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
                    e.snapshots.put(f.getKey(), new VolumeSnapshot(e.location(), f.getValue().path("tag").asText(),
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
