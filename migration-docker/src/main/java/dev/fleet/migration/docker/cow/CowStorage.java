package dev.fleet.migration.docker.cow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.Names;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.spi.VolumeLocation;
import dev.fleet.migration.storage.cow.PoolKind;
import dev.fleet.migration.storage.cow.PoolSnapshotter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node agent's use of btrfs and ZFS: which volumes sit on a pool (source), where restored
 * volumes go (target), and the native send streams that travel beside the archive.
 *
 * <p>Source: {@link #snapshot} takes a read-only snapshot of each volume on a pool at the change
 * fence and returns a {@link SourceSession} that owns them until {@link SourceSession#release}.
 * A volume that is a whole subvolume or dataset, going to a peer declared with the same pool
 * kind, travels as a native full stream ({@code <migration>.cow-<volume>.full}) and its final
 * delta as an incremental one ({@code .incr}); every other volume on a pool travels as the usual
 * portable tar, read from the snapshot. Streams are listed, with size and sha256, in
 * {@code <migration>.cow-full.json} and {@code <migration>.cow-delta.json}.
 *
 * <p>Target: with a volume pool ({@code volumePool(kind, root)}), every restored volume is a
 * {@code local} bind volume on a fresh subvolume or dataset {@code <root>/<volume>.<migration>}:
 * received from the native stream when one came, else created empty and filled from staging.
 *
 * <p>Threads: safe for use by different migrations at once; one migration's calls come in order.
 */
public final class CowStorage {
    static final Logger log = LoggerFactory.getLogger(CowStorage.class);
    static final ObjectMapper JSON = new ObjectMapper();
    public static final String FULL = "full";
    public static final String DELTA = "delta";

    /** Where a target places restored volumes. */
    public record Pool(PoolKind kind, Path root) {
        public Pool {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(root, "root");
            if (!root.isAbsolute()) {
                throw new InvalidInputException("volumePool.root", root.toString(), "must be an absolute path");
            }
        }
    }

    /** Pushes one file to the target's archive directory, the transport verifying its sha256. */
    @FunctionalInterface
    public interface Pusher {
        void push(Path file, String sha256);
    }

    final NodeId node;
    final Clock clock;
    final Path archiveDir;
    final Map<PoolKind, PoolSnapshotter> snapshotters;
    private final Optional<Pool> pool;
    private final Map<NodeId, PoolKind> peerPools;
    private final boolean enabled;

    /**
     * @param enabled   false to read every volume live behind the fence, as on a node without pools
     * @param pool      where this node, as a target, places restored volumes
     * @param peerPools the pool kind each peer declares for its restored volumes
     */
    public CowStorage(NodeId node, Clock clock, Path archiveDir, boolean enabled, Optional<Pool> pool,
                      Map<NodeId, PoolKind> peerPools) {
        this.node = Objects.requireNonNull(node, "node");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.archiveDir = Objects.requireNonNull(archiveDir, "archiveDir");
        this.enabled = enabled;
        this.pool = Objects.requireNonNull(pool, "pool");
        this.peerPools = Map.copyOf(peerPools);
        Map<PoolKind, PoolSnapshotter> s = new EnumMap<>(PoolKind.class);
        for (PoolKind k : PoolKind.values()) {
            s.put(k, k.snapshotter(node, clock));
        }
        this.snapshotters = s;
    }

    /** Where this node places restored volumes, if it has a volume pool. */
    public Optional<Pool> pool() {
        return pool;
    }

    /** Whether this node places restored volumes in a volume pool. */
    public boolean hasPool() {
        return pool.isPresent();
    }

    // ------------------------------------------------------------------ source

    /** Where each volume lives; every volume falls back when snapshots are switched off. */
    public VolumeBackend detect(JsonNode inspect) {
        if (!enabled) {
            return new VolumeBackend(inspect.path("Name").asText(), VolumeBackend.dataPath(inspect), Optional.empty(),
                    Optional.empty(), "", "pool snapshots are switched off on this node: live copy");
        }
        return VolumeBackend.detect(inspect, List.copyOf(snapshotters.values()));
    }

    /** True when {@code b} travels as a native stream to {@code target}. */
    boolean nativeTo(VolumeBackend b, NodeId target) {
        return b.whole() && b.kind().equals(Optional.ofNullable(peerPools.get(target)));
    }

    /** Preflight facts, per volume: where it lives and how it will travel to {@code target}. */
    public Map<String, String> sourceFacts(Map<String, JsonNode> volumes, NodeId target) {
        Map<String, String> facts = new LinkedHashMap<>();
        for (var e : volumes.entrySet()) {
            VolumeBackend b = detect(e.getValue());
            String how = !b.onPool() ? "tar (live copy behind the change fence)"
                    : nativeTo(b, target) ? "native " + b.kind().get().wireName() + " send stream (same pool kind on "
                            + target + ")"
                    : "tar from an atomic " + b.kind().get().wireName() + " snapshot";
            facts.put("volume." + e.getKey() + ".storage", b.reason());
            facts.put("volume." + e.getKey() + ".transfer", how);
        }
        return facts;
    }

    /**
     * Takes an atomic, read-only snapshot of every volume on a pool, without stopping or pausing
     * anything; called at the change fence of SNAPSHOTTING. Snapshots left by an earlier attempt
     * of the same migration are released first.
     */
    public SourceSession snapshot(MigrationId m, NodeId target, Map<String, JsonNode> volumes) {
        releaseSource(m);
        SourceSession s = new SourceSession(this, m, target);
        try {
            for (var e : volumes.entrySet()) {
                VolumeBackend b = detect(e.getValue());
                if (b.onPool()) {
                    s.add(b, nativeTo(b, target));
                }
            }
            s.takeSnapshots(SourceSession.FIRST);
        } catch (RuntimeException e) {
            try {
                s.release();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return s;
    }

    /** The session {@link #snapshot} started for {@code m}; an empty one when it found no pool. */
    public SourceSession session(MigrationId m) {
        return SourceSession.load(this, m);
    }

    /** Releases every snapshot of {@code m} on this node (abort, rollback, retry); idempotent. */
    public List<String> releaseSource(MigrationId m) {
        return SourceSession.load(this, m).release();
    }

    Path stateFile(MigrationId m) {
        return archiveDir.resolve(m.value() + ".cow-state.json");
    }

    Path streamFile(MigrationId m, String volume, String phase) {
        Names.require("volume", volume, Names.DOCKER_NAME, Names.DOCKER_NAME_MAX);
        return archiveDir.resolve(m.value() + ".cow-" + volume + "." + phase);
    }

    Path listFile(MigrationId m, String phase) {
        return archiveDir.resolve(m.value() + ".cow-" + phase + ".json");
    }

    // ------------------------------------------------------------------ target

    /** Target preflight: the volume pool must be usable; reports it as a fact. */
    public void targetPreflight(List<String> problems, Map<String, String> facts) {
        if (pool.isEmpty()) {
            facts.put("target.volumePool", "none");
            return;
        }
        Pool p = pool.get();
        if (snapshotters.get(p.kind()).holderOf(p.root()).isEmpty()) {
            problems.add("the volume pool " + p.root() + " of node " + node + " is not on a " + p.kind().wireName()
                    + (p.kind() == PoolKind.BTRFS ? " filesystem" : " dataset") + " (or does not exist)");
        }
        facts.put("target.volumePool", p.kind().wireName() + ":" + p.root());
    }

    /** Where a restored volume of {@code m} lives in the pool. */
    Path placement(Pool p, String volume, MigrationId m) {
        Names.require("volume", volume, Names.DOCKER_NAME, Names.DOCKER_NAME_MAX);
        return p.root().resolve(volume + "." + m.value());
    }

    /**
     * Called by RESTORE before it creates volume {@code volume}: on a node with a volume pool,
     * makes the subvolume or dataset (received from the native stream when one came, else empty)
     * and turns {@code create} into a {@code local} bind volume on it.
     *
     * @return true when the data arrived by the native stream (nothing to move from staging)
     * @throws NodeOperationException when a native stream came but this node cannot receive it,
     *                                its sha256 is wrong, or the receive failed (nothing partial is left)
     */
    public boolean placeVolume(MigrationId m, String volume, ObjectNode create) {
        Optional<StreamList.Stream> stream = StreamList.read(this, m, FULL).find(volume);
        if (pool.isEmpty()) {
            if (stream.isPresent()) {
                throw new NodeOperationException(node, "restore", "volume " + volume + " came as a native "
                        + stream.get().kind().wireName() + " stream, but node " + node + " has no volume pool");
            }
            return false;
        }
        Pool p = pool.get();
        PoolSnapshotter s = snapshotters.get(p.kind());
        Path at = placement(p, volume, m);
        s.releaseReceived(new VolumeLocation(volume, at));
        s.destroyVolume(at); // ours by name: a leftover of an earlier attempt of this migration
        boolean received = false;
        if (stream.isPresent()) {
            if (stream.get().kind() != p.kind()) {
                throw new NodeOperationException(node, "restore", "volume " + volume + " came as a native "
                        + stream.get().kind().wireName() + " stream, but the volume pool of node " + node + " is "
                        + p.kind().wireName());
            }
            receive(s, stream.get(), new VolumeLocation(volume, at));
            received = true;
        } else {
            s.createVolume(at);
        }
        ObjectNode opts = create.putObject("DriverOpts");
        opts.put("type", "none").put("o", "bind").put("device", at.toString());
        create.put("Driver", "local");
        return received;
    }

    /**
     * Called by START_TARGET before the portable delta is applied: receives each incremental
     * stream that came with the final delta into its volume ({@code roots}: volume to data path).
     */
    public void receiveDeltas(MigrationId m, Map<String, Path> roots) {
        StreamList list = StreamList.read(this, m, DELTA);
        for (StreamList.Stream st : list.streams()) {
            Path at = roots.get(st.volume());
            if (at == null || pool.isEmpty() || !at.equals(placement(pool.get(), st.volume(), m))) {
                throw new NodeOperationException(node, "start-target", "the final delta of volume " + st.volume()
                        + " is a native stream, but migration " + m + " restored no such volume in the pool of node "
                        + node);
            }
            receive(snapshotters.get(pool.get().kind()), st, new VolumeLocation(st.volume(), at));
        }
    }

    /**
     * Drops the received bases of {@code m}'s volumes (they served the incremental receive), and
     * only those: a later migration of the same volume may already be taking its own snapshots of
     * it. Idempotent.
     */
    public void releaseReceived(MigrationId m, Map<String, Path> roots) {
        if (pool.isEmpty()) {
            return;
        }
        for (var e : roots.entrySet()) {
            if (e.getValue().equals(placement(pool.get(), e.getKey(), m))) {
                snapshotters.get(pool.get().kind()).releaseReceived(new VolumeLocation(e.getKey(), e.getValue()),
                        SourceSession.tagsOf(m));
            }
        }
    }

    /**
     * The retention sweep's part in the pool: drops what receives kept for every volume placed
     * by a migration that is not in {@code keep} (the active ones). START_TARGET drops them on a
     * thread of its own once the app answers; this catches an agent that stopped before it did.
     * The volumes themselves are left alone. Idempotent.
     */
    public void releaseEndedReceived(java.util.Set<MigrationId> keep) {
        if (pool.isEmpty()) {
            return;
        }
        Pool p = pool.get();
        PoolSnapshotter s = snapshotters.get(p.kind());
        List<Path> placed;
        try (Stream<Path> list = Files.list(p.root())) {
            placed = list.filter(c -> !c.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the volume pool " + p.root(), e);
        }
        for (Path at : placed) {
            String leaf = at.getFileName().toString();
            String volume = leaf.substring(0, Math.max(0, leaf.lastIndexOf('.')));
            placedBy(p, volume, at).filter(m -> !keep.contains(m))
                    .ifPresent(m -> s.releaseReceived(new VolumeLocation(volume, at), SourceSession.tagsOf(m)));
        }
    }

    /**
     * The migration that placed {@code at} in pool {@code p} as its copy of {@code volume}, when
     * {@code at} is exactly such a placement ({@code <root>/<volume>.<migration>}, both names
     * valid); empty for anything else in or outside the pool.
     */
    private static Optional<MigrationId> placedBy(Pool p, String volume, Path at) {
        String leaf = at.getFileName() == null ? "" : at.getFileName().toString();
        String prefix = volume + ".";
        if (!p.root().equals(at.getParent()) || !leaf.startsWith(prefix) || volume.length() > Names.DOCKER_NAME_MAX
                || !Names.DOCKER_NAME.matcher(volume).matches()
                || !Names.MIGRATION_ID.matcher(leaf.substring(prefix.length())).matches()) {
            return Optional.empty();
        }
        return Optional.of(MigrationId.of(leaf.substring(prefix.length())));
    }

    /**
     * Called by RESTORE after it removed from the engine a volume that an earlier migration had
     * retained here, to make room for the one it restores: when the replaced volume was one this
     * node had placed in its volume pool (a bind volume on {@code <root>/<volume>.<migration>},
     * a whole subvolume or dataset), deletes that subvolume or dataset too, with what receives
     * kept for it; otherwise the pool would keep the replaced data for ever. A volume anywhere
     * else (the operator's own subvolume or dataset, a plain volume) is left alone: it is not ours.
     *
     * @param inspect the replaced volume's inspect, taken before it was removed
     * @return what it did
     */
    public List<String> dropReplaced(String volume, JsonNode inspect) {
        if (pool.isEmpty()) {
            return List.of();
        }
        Pool p = pool.get();
        Path device = VolumeBackend.dataPath(inspect);
        Optional<MigrationId> placer = placedBy(p, volume, device);
        if (!"local".equals(inspect.path("Driver").asText()) || placer.isEmpty()
                || !Files.isDirectory(device, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        PoolSnapshotter s = snapshotters.get(p.kind());
        if (!s.holderOf(device).map(device::equals).orElse(false)) {
            return List.of(); // not a whole subvolume or dataset: never ours to delete
        }
        s.releaseReceived(new VolumeLocation(volume, device));
        s.destroyVolume(device);
        log.info("node {}: deleted {} volume {} of the replaced volume {} (placed by {})", node, p.kind().wireName(),
                device, volume, placer.get());
        return List.of("deleted " + p.kind().wireName() + " volume " + device + " of the replaced volume " + volume);
    }

    /**
     * Target compensation, after the volumes were removed from the engine: deletes every
     * subvolume or dataset this migration made in the pool (found by name) and what receives kept.
     */
    public List<String> compensateTarget(MigrationId m) {
        List<String> actions = new ArrayList<>();
        if (pool.isEmpty()) {
            return actions;
        }
        Pool p = pool.get();
        PoolSnapshotter s = snapshotters.get(p.kind());
        String suffix = "." + m.value();
        List<Path> mine;
        try (Stream<Path> list = Files.list(p.root())) {
            mine = list.filter(c -> c.getFileName().toString().endsWith(suffix)
                    && !c.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Path at : mine) {
            String volume = at.getFileName().toString();
            volume = volume.substring(0, volume.length() - suffix.length());
            s.releaseReceived(new VolumeLocation(volume, at));
            s.destroyVolume(at);
            actions.add("deleted " + p.kind().wireName() + " volume " + at);
        }
        return actions;
    }

    private void receive(PoolSnapshotter s, StreamList.Stream st, VolumeLocation at) {
        Path file = streamFile(st.migration(), st.volume(), st.phase());
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new NodeOperationException(node, "restore", "the native stream " + file.getFileName()
                    + " has not arrived on node " + node);
        }
        String got = dev.fleet.migration.docker.archive.Digests.ofFile(file);
        if (!got.equals(st.sha256())) {
            throw new NodeOperationException(node, "restore", "the native stream " + file.getFileName() + " has sha256 "
                    + got + " but the source wrote " + st.sha256());
        }
        try (InputStream in = Files.newInputStream(file)) {
            s.receive(in, at);
        } catch (IOException e) {
            throw new NodeOperationException(node, "restore", "cannot read " + file + ": " + e.getMessage(), e);
        }
        log.info("node {}: received {} into {}", node, file.getFileName(), at.mountpoint());
    }
}
