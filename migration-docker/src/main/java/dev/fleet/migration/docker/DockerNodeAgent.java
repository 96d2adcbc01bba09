package dev.fleet.migration.docker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.FencedException;
import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.MigrationException;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.Progress;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.core.spi.NodeInventory;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.core.spi.OperationStatus;
import dev.fleet.migration.core.spi.PreflightReport;
import dev.fleet.migration.core.spi.PreflightRequest;
import dev.fleet.migration.core.spi.Role;
import dev.fleet.migration.core.spi.Transport;
import dev.fleet.migration.docker.archive.TreeFingerprint;
import dev.fleet.migration.docker.internal.Engine;
import dev.fleet.migration.docker.internal.Journal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link NodeAgent} of one node running a Docker engine, reached through docker-java's
 * zerodep transport. It runs on the node itself: volume data is read from and written to the
 * volumes' mount points directly (so it runs as root), which keeps numeric owners, links and
 * holes exactly and streams in constant memory.
 *
 * <p>Operations: SNAPSHOT commits each container, {@code docker save}s the images and writes
 * every named volume into {@code <archive-dir>/<migration>.tar} while the app keeps running,
 * after recording a change fence; TRANSFER pushes it through the {@link Transport}; RESTORE (on
 * the target) verifies every sha256, loads the image and creates volumes and containers stopped,
 * labelled with the migration id and epoch; STOP_SOURCE sets restart policy {@code no}, stops
 * gracefully and sends the final delta; START_TARGET applies it, starts, and passes the health
 * gate; RETIRE_SOURCE renames the source {@code <name>.migrated-<short id>}.
 *
 * <p>Volumes on btrfs or ZFS (see {@link dev.fleet.migration.docker.cow.CowStorage}) are read from
 * an atomic snapshot instead of live, their final delta is the difference of two snapshots (or an
 * incremental native stream when the target declared the same pool kind with
 * {@link Builder#peerVolumePool}), and a target with {@link Builder#volumePool} places restored
 * volumes on fresh subvolumes or datasets.
 *
 * <p>Every operation is journaled in {@code <archive-dir>/journal.jsonl}: a replayed key returns
 * the first result, a higher epoch adopts the operation, a lower epoch than the highest seen
 * for the app is refused with {@link FencedException}. Long work runs on worker threads;
 * {@link #submit} answers at once.
 *
 * <p>Thread-safe. Build with {@link #builder()}; {@link #close()} stops the workers.
 */
public final class DockerNodeAgent implements NodeAgent, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DockerNodeAgent.class);

    /** Another node this agent pushes archives to: its SSH endpoint and its archive directory. */
    public record Peer(Endpoint ssh, String archiveDirectory) {
        public Peer {
            Objects.requireNonNull(ssh, "ssh");
            Objects.requireNonNull(archiveDirectory, "archiveDirectory");
            if (!archiveDirectory.startsWith("/")) {
                throw new InvalidInputException("peer.archiveDirectory", archiveDirectory, "must be absolute");
            }
        }
    }

    /** How a container's own filesystem (not its volumes) travels. */
    public enum ContainerFilesystem {
        /** Commit each container and {@code docker save} the images; falls back to EXPORT if that fails. */
        COMMIT,
        /** {@code docker export} each container's filesystem; the target imports it as an image. */
        EXPORT
    }

    /** The default archive directory on a node. */
    public static final Path DEFAULT_ARCHIVE_DIR = Path.of("/var/lib/fleet/migrations");

    private final NodeContext ctx;
    private final SourceSide source;
    private final TargetSide target;
    private final Journal journal;
    private final com.github.dockerjava.transport.DockerHttpClient http;
    private final ExecutorService workers;
    private final Map<String, Operation> running = new ConcurrentHashMap<>();
    private final Map<String, OperationStatus> live = new ConcurrentHashMap<>();
    private final Object lock = new Object();

    private DockerNodeAgent(Builder b) {
        Objects.requireNonNull(b.node, "node");
        Objects.requireNonNull(b.endpoint, "docker endpoint");
        Objects.requireNonNull(b.transport, "transport");
        this.http = b.endpoint.httpClient();
        this.journal = new Journal(b.archiveDir.resolve("journal.jsonl"));
        this.ctx = new NodeContext(b.node, new Engine(http, b.node), journal, b.archiveDir, b.transport, b.peers,
                b.clock, b.stopTimeout, b.probeHostPorts, b.healthHost, b.filesystem);
        ctx.cow = new dev.fleet.migration.docker.cow.CowStorage(b.node, b.clock, b.archiveDir, b.poolSnapshots,
                Optional.ofNullable(b.volumePool), b.peerPools);
        this.source = new SourceSide(ctx);
        this.target = new TargetSide(ctx);
        this.workers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fleet-docker-agent-" + b.node);
            t.setDaemon(true);
            return t;
        });
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public NodeId node() {
        return ctx.node;
    }

    /** The archive directory: archives, deltas, the change fence and the journal live here. */
    public Path archiveDirectory() {
        return ctx.archiveDir;
    }

    /**
     * Where a restore unpacks an archive ({@code <dir>/<migration>.staging}) before it renames
     * each volume's tree into its volume: {@code <DockerRootDir>/fleet-staging} on the engine's data
     * root, or the archive directory when the engine's data root is not usable from here (the
     * volumes are then copied in). Asks the engine once.
     */
    public Path stagingDirectory() {
        return ctx.stagingRoot();
    }

    /** A problem when the JVM cannot name UTF-8 files (volume trees hold them), else empty. */
    static Optional<String> encodingProblem() {
        String enc = System.getProperty("sun.jnu.encoding", "UTF-8");
        return enc.equalsIgnoreCase("UTF-8") || enc.equalsIgnoreCase("UTF8") ? Optional.empty()
                : Optional.of("the agent's JVM decodes file names as " + enc + ", not UTF-8: start it with LC_ALL=C.UTF-8");
    }

    // ------------------------------------------------------------------ fencing and journal

    private void fence(AppRef app, long epoch, boolean record) {
        synchronized (lock) {
            long highest = journal.highestEpoch(app.id());
            if (epoch < highest) {
                throw new FencedException(ctx.node, app, epoch, highest);
            }
            if (record) {
                journal.recordEpoch(app.id(), epoch);
            }
        }
    }

    private static String opKey(OperationKey key) {
        return key.migration().value() + "/" + key.kind().name();
    }

    @Override
    public PreflightReport preflight(PreflightRequest request) {
        fence(request.app(), request.epoch(), false);
        return request.role() == Role.SOURCE ? source.preflight(request) : target.preflight(request);
    }

    @Override
    public OperationStatus submit(OperationRequest request) {
        OperationKey key = request.key();
        boolean sourceOp = key.kind().actor() == OperationKind.Actor.SOURCE;
        NodeId expected = sourceOp ? request.source() : request.target();
        if (!expected.equals(ctx.node)) {
            throw new NodeOperationException(ctx.node, key.kind().wireName(), "this is node " + ctx.node
                    + " but the operation belongs to the " + (sourceOp ? "source " : "target ") + expected);
        }
        synchronized (lock) {
            fence(request.app(), key.epoch(), true);
            Optional<OperationStatus> known = current(key);
            if (known.isPresent()) {
                return known.get();
            }
            Operation.Work work = switch (key.kind()) {
                case SNAPSHOT -> source::snapshot;
                case TRANSFER -> source::transfer;
                case STOP_SOURCE -> source::stop;
                case RETIRE_SOURCE -> source::retire;
                case RESTORE -> target::restore;
                case START_TARGET -> target::start;
                case SWITCH_ROUTE -> throw new NodeOperationException(ctx.node, key.kind().wireName(),
                        "routing is the router's, not a node's");
            };
            Operation op = new Operation(request, ctx.clock);
            OperationStatus status = OperationStatus.running(key, Progress.NONE);
            journal.operation(key, request.app().id(), status);
            running.put(opKey(key), op);
            workers.execute(() -> run(op, work));
            return status;
        }
    }

    private void run(Operation op, Operation.Work work) {
        OperationKey key = op.request.key();
        OperationStatus end;
        try {
            Operation.Result r = work.run(op);
            end = OperationStatus.succeeded(key, op.progress(), r.archive(), r.facts());
            log.info("node {}: {} succeeded", ctx.node, key);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            end = OperationStatus.failed(key, key.kind().wireName() + " was interrupted");
        } catch (Exception | Error e) {
            // the orchestrator already says which operation on which node failed: keep the cause only
            String message = e instanceof MigrationException ? e.getMessage().replaceFirst(
                    "^[a-z-]+ on node [a-z0-9-]+ failed: ", "")
                    : dev.fleet.migration.docker.archive.NoSpaceException.causedBy(e)
                    ? "no space left on device on node " + ctx.node + ": " + e.getMessage() : e.toString();
            end = OperationStatus.failed(key, message);
            log.warn("node {}: {} failed: {}", ctx.node, key, message, e);
        }
        synchronized (lock) {
            journal.operation(key, op.request.app().id(), end);
            running.remove(opKey(key));
        }
    }

    /** The operation's status under the caller's key (adopted into a higher epoch), if known. */
    private Optional<OperationStatus> current(OperationKey key) {
        Operation op = running.get(opKey(key));
        if (op != null) {
            return Optional.of(OperationStatus.running(key, op.progress()));
        }
        return journal.operation(key.migration(), key.kind()).map(e -> e.status().withKey(key));
    }

    @Override
    public Optional<OperationStatus> status(OperationKey key) {
        Optional<Journal.Entry> entry = journal.operation(key.migration(), key.kind());
        if (entry.isEmpty()) {
            return Optional.empty();
        }
        AppRef app = AppRef.parse(entry.get().app());
        synchronized (lock) {
            fence(app, key.epoch(), true);
            return current(key);
        }
    }

    @Override
    public List<String> compensate(CompensationRequest request) {
        fence(request.app(), request.epoch(), true);
        // stop this migration's running work first: nothing may race the undo
        List<Operation> mine = running.values().stream()
                .filter(o -> o.request.key().migration().equals(request.migration())).toList();
        mine.forEach(o -> o.cancellation.cancel());
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (mine.stream().anyMatch(o -> running.containsValue(o)) && System.nanoTime() < until) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        List<String> actions = request.role() == Role.SOURCE ? source.compensate(request) : target.compensate(request);
        log.info("node {}: compensated {} as {}: {}", ctx.node, request.migration(), request.role(), actions);
        return actions;
    }

    @Override
    public List<String> sweepArchives(java.time.Instant olderThan, java.util.Set<dev.fleet.migration.core.MigrationId> keep) {
        List<String> removed = new ArrayList<>(ArchiveSweeper.sweep(ctx.archiveDir, olderThan, keep));
        Path staging = ctx.stagingRoot();
        if (!staging.equals(ctx.archiveDir)) {
            removed.addAll(ArchiveSweeper.sweep(staging, olderThan, keep)); // a restore's staging, cut off by a crash
        }
        try {
            ctx.cow.releaseEndedReceived(keep); // normally dropped by START_TARGET already
        } catch (RuntimeException e) {
            log.warn("node {}: retention sweep: could not drop received bases in the volume pool: {}", ctx.node,
                    e.getMessage());
        }
        if (!removed.isEmpty()) {
            log.info("node {}: retention sweep: {}", ctx.node, removed);
        }
        return removed;
    }

    @Override
    public NodeInventory inventory() {
        List<NodeInventory.Container> containers = new ArrayList<>();
        for (JsonNode s : ctx.engine.list("/containers/json?all=1")) {
            JsonNode c = ctx.engine.get("/containers/" + s.path("Id").asText() + "/json");
            if (c == null) {
                continue;
            }
            String policy = c.path("HostConfig").path("RestartPolicy").path("Name").asText("");
            containers.add(new NodeInventory.Container(NodeContext.name(c), c.path("State").path("Running").asBoolean(),
                    policy.isEmpty() ? "no" : policy, Engine.labels(c.path("Config").path("Labels"))));
        }
        containers.sort(Comparator.comparing(NodeInventory.Container::name));
        List<NodeInventory.Volume> volumes = new ArrayList<>();
        JsonNode vs = ctx.engine.get("/volumes");
        if (vs != null) {
            for (JsonNode v : vs.path("Volumes")) {
                String fingerprint;
                // a bind volume's data is at its device (its _data directory is empty while unmounted)
                Path mp = v.path("Mountpoint").isTextual() ? dev.fleet.migration.docker.cow.VolumeBackend.dataPath(v)
                        : Path.of("/nonexistent");
                if ("local".equals(v.path("Driver").asText()) && Files.isDirectory(mp)) {
                    fingerprint = TreeFingerprint.of(mp);
                } else {
                    fingerprint = "unreadable:" + v.path("Driver").asText();
                }
                volumes.add(new NodeInventory.Volume(v.path("Name").asText(), fingerprint,
                        Engine.labels(v.path("Labels"))));
            }
        }
        volumes.sort(Comparator.comparing(NodeInventory.Volume::name));
        return new NodeInventory(containers, volumes);
    }

    /** Stops the workers (running operations are abandoned and replay as failed) and closes the engine client. */
    @Override
    public void close() {
        workers.shutdownNow();
        try {
            workers.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        journal.close();
        try {
            http.close();
        } catch (java.io.IOException e) {
            log.debug("closing the engine client: {}", e.toString());
        }
    }

    @Override
    public String toString() {
        return "DockerNodeAgent[" + ctx.node + " at " + ctx.archiveDir + "]";
    }

    /** Builds a {@link DockerNodeAgent}; node, Docker endpoint and transport are required. */
    public static final class Builder {
        private NodeId node;
        private DockerEndpoint endpoint;
        private Transport transport;
        private Path archiveDir = DEFAULT_ARCHIVE_DIR;
        private final Map<NodeId, Peer> peers = new LinkedHashMap<>();
        private Clock clock = Clock.systemUTC();
        private Duration stopTimeout = Duration.ofSeconds(10);
        private boolean probeHostPorts = true;
        private String healthHost = "127.0.0.1";
        private ContainerFilesystem filesystem = ContainerFilesystem.COMMIT;
        private boolean poolSnapshots = true;
        private dev.fleet.migration.docker.cow.CowStorage.Pool volumePool;
        private final Map<NodeId, dev.fleet.migration.storage.cow.PoolKind> peerPools = new LinkedHashMap<>();

        private Builder() {}

        /** How containers' own filesystems travel; default {@link ContainerFilesystem#COMMIT}. */
        public Builder containerFilesystem(ContainerFilesystem mode) {
            this.filesystem = Objects.requireNonNull(mode, "mode");
            return this;
        }

        public Builder node(NodeId node) {
            this.node = node;
            return this;
        }

        public Builder docker(DockerEndpoint endpoint) {
            this.endpoint = endpoint;
            return this;
        }

        /** How archives and final deltas reach other nodes. */
        public Builder transport(Transport transport) {
            this.transport = transport;
            return this;
        }

        /**
         * Where archives, deltas and the journal live; default {@code /var/lib/fleet/migrations}.
         * Restores stage under the engine's data root instead ({@link DockerNodeAgent#stagingDirectory()}).
         */
        public Builder archiveDirectory(Path dir) {
            this.archiveDir = dir.toAbsolutePath();
            return this;
        }

        /** A node this one may push to. */
        public Builder peer(NodeId id, Peer peer) {
            peers.put(id, peer);
            return this;
        }

        /** Where the change fence's time comes from. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** How long a graceful stop may take before the engine kills; default 10 s. */
        public Builder stopTimeout(Duration timeout) {
            this.stopTimeout = timeout;
            return this;
        }

        /**
         * Whether the restore also tries to bind each of the app's host ports (default true).
         * Switch it off only when several nodes share one host's loopback, as in tests.
         */
        public Builder probeHostPorts(boolean probe) {
            this.probeHostPorts = probe;
            return this;
        }

        /** Where the health gate connects to the app's port; default 127.0.0.1. */
        public Builder healthHost(String host) {
            this.healthHost = host;
            return this;
        }

        /**
         * Whether volumes found on a btrfs subvolume or ZFS dataset are snapshotted atomically
         * there (default true); false reads every volume live behind the change fence.
         */
        public Builder poolSnapshots(boolean enabled) {
            this.poolSnapshots = enabled;
            return this;
        }

        /**
         * Where this node, as a target, places restored volumes: each becomes a {@code local} bind
         * volume on a fresh subvolume (btrfs) or dataset (ZFS) under {@code root}, which must be on
         * a pool of that kind (checked by preflight). Without it, volumes are plain local volumes.
         */
        public Builder volumePool(dev.fleet.migration.storage.cow.PoolKind kind, Path root) {
            this.volumePool = new dev.fleet.migration.docker.cow.CowStorage.Pool(kind, root);
            return this;
        }

        /**
         * The pool kind a peer places restored volumes on (its {@link #volumePool}): a volume that
         * is a whole subvolume or dataset of the same kind travels to it as a native send stream.
         */
        public Builder peerVolumePool(NodeId peer, dev.fleet.migration.storage.cow.PoolKind kind) {
            peerPools.put(Objects.requireNonNull(peer, "peer"), Objects.requireNonNull(kind, "kind"));
            return this;
        }

        public DockerNodeAgent build() {
            return new DockerNodeAgent(this);
        }
    }
}
