package dev.fleet.migration.core.testing;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.FencedException;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.NodeUnavailableException;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.Progress;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.core.spi.NodeInventory;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.core.spi.OperationStatus;
import dev.fleet.migration.core.spi.PreflightReport;
import dev.fleet.migration.core.spi.PreflightRequest;
import dev.fleet.migration.core.spi.Role;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;

/**
 * A deterministic, in-memory world of nodes for tests of the pure core: each node has
 * containers, volumes, archives and a journal; operations take a duration drawn from a seeded
 * random source and measured on an injected clock, and may fail by injection. Nothing here
 * touches a disk, a socket or a process.
 *
 * <p>It keeps the books the property tests check: how often each operation's work was started,
 * and whether an app ever ran on two nodes at once.
 *
 * <p>One lock guards the whole world, so it is safe for concurrent use.
 */
public final class FakeFleet {
    public static final String LABEL_MIGRATION = "dev.fleet.migration.id";
    public static final String LABEL_EPOCH = "dev.fleet.migration.epoch";
    public static final String LABEL_RETAINED = "dev.fleet.migration.retained-by";
    public static final String LABEL_COMPOSE = "com.docker.compose.project";

    private final Clock clock;
    private final Random random;
    private final Map<NodeId, Node> nodes = new TreeMap<>();
    private final Map<String, Integer> workStarts = new HashMap<>();
    private final List<String> violations = new ArrayList<>();
    private Duration maxDuration = Duration.ZERO;
    private double failureRate;
    private double unavailableRate;
    private final java.util.Set<dev.fleet.migration.core.spi.OperationKind> failing =
            java.util.EnumSet.noneOf(dev.fleet.migration.core.spi.OperationKind.class);

    public FakeFleet(Clock clock, long seed) {
        this.clock = clock;
        this.random = new Random(seed);
    }

    /** Operations take a duration in [0, max]; zero makes every operation finish on submit. */
    public synchronized FakeFleet durations(Duration max) {
        this.maxDuration = max;
        return this;
    }

    /** The chance that an operation ends FAILED (decided when it starts). */
    public synchronized FakeFleet failureRate(double rate) {
        this.failureRate = rate;
        return this;
    }

    /** Every operation of this kind started from now on ends FAILED (a health gate that never passes...). */
    public synchronized FakeFleet failAlways(dev.fleet.migration.core.spi.OperationKind kind) {
        failing.add(kind);
        return this;
    }

    /** Undoes {@link #failAlways}: operations of this kind started from now on succeed again. */
    public synchronized FakeFleet failNoMore(dev.fleet.migration.core.spi.OperationKind kind) {
        failing.remove(kind);
        return this;
    }

    /** Deletes a node's copy of a migration's archive (a disk wiped, a sweep). */
    public synchronized void dropArchive(String node, MigrationId id) {
        nodeOf(NodeId.of(node)).archives.remove(id + ".tar");
    }

    /** The chance that a preflight, submit or status call throws {@link NodeUnavailableException}. */
    public synchronized FakeFleet unavailableRate(double rate) {
        this.unavailableRate = rate;
        return this;
    }

    public synchronized NodeAgent node(String id) {
        NodeId nodeId = NodeId.of(id);
        return nodes.computeIfAbsent(nodeId, n -> new Node(n)).agent;
    }

    /** Puts a running app on a node: its containers and one volume each, with content. */
    public synchronized void deploy(String node, AppRef app, int port) {
        Node n = nodeOf(NodeId.of(node));
        for (String c : containerNames(app)) {
            Map<String, String> labels = new TreeMap<>();
            if (app.kind() == AppRef.Kind.COMPOSE_PROJECT) {
                labels.put(LABEL_COMPOSE, app.name());
            }
            labels.put("fleet.port", String.valueOf(port));
            n.containers.put(c, new Container(c, true, "unless-stopped", labels, app));
            String vol = c + "-data";
            n.volumes.put(vol, new Volume(vol, "content-of-" + vol + "-" + random.nextInt(1_000_000), Map.of()));
        }
    }

    /** Puts a container that no migration made on a node (for conflict checks). */
    public synchronized void deployForeign(String node, String containerName) {
        nodeOf(NodeId.of(node)).containers.put(containerName,
                new Container(containerName, false, "no", Map.of(), null));
    }

    /** A volume's content changes (the app writes). */
    public synchronized void write(String node, String volume) {
        Node n = nodeOf(NodeId.of(node));
        Volume v = n.volumes.get(volume);
        if (v != null) {
            n.volumes.put(volume, new Volume(volume, v.fingerprint + "+w", v.labels));
        }
    }

    /**
     * Everything on a node that an abort must leave as it found it: inventory plus archives,
     * except the archives this node wrote as a source, which are kept on purpose (a replay may
     * adopt them; the retention sweep removes them).
     */
    public synchronized String snapshotOf(String node) {
        Node n = nodeOf(NodeId.of(node));
        n.settle();
        java.util.Set<String> archives = new java.util.TreeSet<>(n.archives.keySet());
        archives.removeAll(n.written);
        return n.inventory().toString() + " archives=" + archives;
    }

    /**
     * One app's share of a node, for checks while other apps migrate too: its containers
     * (including retired ones), their volumes, and the archive of one migration.
     */
    public synchronized String snapshotOf(String node, AppRef app, MigrationId migration) {
        Node n = nodeOf(NodeId.of(node));
        n.settle();
        StringBuilder sb = new StringBuilder();
        List<String> names = containerNames(app);
        for (Container k : n.containers.values()) {
            for (String c : names) {
                if (k.name.equals(c) || k.name.startsWith(c + ".migrated-")) {
                    sb.append(k.name).append(k.running ? " running " : " stopped ").append(k.restartPolicy)
                            .append(' ').append(new TreeMap<>(k.labels)).append("; ");
                }
            }
        }
        for (String c : names) {
            Volume v = n.volumes.get(c + "-data");
            if (v != null) {
                sb.append(v).append("; ");
            }
        }
        sb.append("archive=").append(n.archives.containsKey(migration + ".tar")
                && !n.written.contains(migration + ".tar"));
        return sb.toString();
    }

    /** The nodes on which the app runs right now (any of its containers, by original name). */
    public synchronized List<String> runningOn(AppRef app) {
        List<String> where = new ArrayList<>();
        for (Node n : nodes.values()) {
            n.settle();
            for (String c : containerNames(app)) {
                Container k = n.containers.get(c);
                if (k != null && k.running) {
                    where.add(n.id.value());
                    break;
                }
            }
        }
        return where;
    }

    /** How many times each (migration, operation) had its work started; all should be 1. */
    public synchronized Map<String, Integer> workStarts() {
        return Map.copyOf(workStarts);
    }

    /** Broken rules the fake saw happen (two copies running, effects after cancellation). */
    public synchronized List<String> violations() {
        for (Node n : nodes.values()) {
            n.settle();
        }
        return List.copyOf(violations);
    }

    public synchronized boolean hasArchive(String node, MigrationId id) {
        return nodeOf(NodeId.of(node)).archives.containsKey(id + ".tar");
    }

    static List<String> containerNames(AppRef app) {
        return app.kind() == AppRef.Kind.CONTAINER
                ? List.of(app.name())
                : List.of(app.name() + "-web-1", app.name() + "-db-1");
    }

    private Node nodeOf(NodeId id) {
        Node n = nodes.get(id);
        if (n == null) {
            throw new IllegalArgumentException("no fake node " + id);
        }
        return n;
    }

    private void checkTwoCopies(AppRef app) {
        int running = 0;
        for (Node n : nodes.values()) {
            for (String c : containerNames(app)) {
                Container k = n.containers.get(c);
                if (k != null && k.running) {
                    running++;
                    break;
                }
            }
        }
        if (running > 1) {
            violations.add("app " + app + " runs on " + running + " nodes at " + clock.instant());
        }
    }

    // ------------------------------------------------------------------ the world's pieces

    private static final class Container {
        final String name;
        final boolean running;
        final String restartPolicy;
        final Map<String, String> labels;
        final AppRef app;

        Container(String name, boolean running, String restartPolicy, Map<String, String> labels, AppRef app) {
            this.name = name;
            this.running = running;
            this.restartPolicy = restartPolicy;
            this.labels = Map.copyOf(labels);
            this.app = app;
        }

        Container running(boolean r) {
            return new Container(name, r, restartPolicy, labels, app);
        }

        Container policy(String p) {
            return new Container(name, running, p, labels, app);
        }

        Container renamed(String n) {
            return new Container(n, running, restartPolicy, labels, app);
        }
    }

    private record Volume(String name, String fingerprint, Map<String, String> labels) {}

    /** What a snapshot captured: the app's containers and volumes. */
    private record Archive(String sha256, Map<String, Container> containers, Map<String, Volume> volumes) {}

    /** What STOP_SOURCE found before it stopped the app, so rollback can put it back. */
    private record Original(Map<String, Boolean> running, Map<String, String> policies) {}

    private final class Op {
        OperationKey key;
        final OperationRequest request;
        final Instant finishAt;
        final boolean fails;
        OperationStatus status;

        Op(OperationRequest request, Instant finishAt, boolean fails) {
            this.key = request.key();
            this.request = request;
            this.finishAt = finishAt;
            this.fails = fails;
            this.status = OperationStatus.running(key, new Progress(0, 1000, 0));
        }
    }

    private final class Node {
        final NodeId id;
        final Map<String, Container> containers = new TreeMap<>();
        final Map<String, Volume> volumes = new TreeMap<>();
        final Map<String, Archive> archives = new TreeMap<>();
        /** Archives this node wrote as a source: kept after the migration ends, whichever way. */
        final java.util.Set<String> written = new java.util.TreeSet<>();
        /** When each archive arrived on this node, for the retention sweep. */
        final Map<String, java.time.Instant> archivedAt = new TreeMap<>();
        final Map<String, Op> journal = new LinkedHashMap<>();
        /** The journal's running operations, so settling stays cheap when the journal is long. */
        final List<Op> running = new ArrayList<>();
        final Map<AppRef, Long> highestEpoch = new HashMap<>();
        final Map<MigrationId, Original> originals = new HashMap<>();
        final Map<MigrationId, Map<String, Volume>> stashed = new HashMap<>();
        final NodeAgent agent = new Agent();

        Node(NodeId id) {
            this.id = id;
        }

        void fence(AppRef app, long epoch) {
            long highest = highestEpoch.getOrDefault(app, 0L);
            if (epoch < highest) {
                throw new FencedException(id, app, epoch, highest);
            }
            highestEpoch.put(app, epoch);
        }

        void maybeUnavailable(String what) {
            if (unavailableRate > 0 && random.nextDouble() < unavailableRate) {
                throw new NodeUnavailableException(id, "injected fault during " + what);
            }
        }

        /** Finishes every operation whose time has come, applying its effects. */
        void settle() {
            Instant now = clock.instant();
            running.removeIf(op -> {
                if (op.status.phase() != OperationStatus.Phase.RUNNING) {
                    return true; // cancelled
                }
                if (!now.isBefore(op.finishAt)) {
                    complete(op);
                    return true;
                }
                return false;
            });
        }

        private void complete(Op op) {
            OperationKey key = op.key;
            if (op.fails) {
                op.status = OperationStatus.failed(key, "injected failure of " + key.kind().wireName());
                return;
            }
            try {
                op.status = apply(op);
            } catch (NodeOperationException e) {
                op.status = OperationStatus.failed(key, e.getMessage());
            }
        }

        private OperationStatus apply(Op op) {
            OperationRequest r = op.request;
            MigrationId m = r.key().migration();
            String archiveName = m + ".tar";
            Progress done = new Progress(1000, 1000, 1000);
            switch (r.kind()) {
                case SNAPSHOT -> {
                    if (r.archive().isPresent()) {
                        // a replay: adopt the kept archive instead of reading the volumes again
                        Archive kept = archives.get(r.archive().get().fileName());
                        if (kept == null || !kept.sha256().equals(r.archive().get().sha256())) {
                            throw new NodeOperationException(id, "snapshot", "no kept archive "
                                    + r.archive().get().fileName() + " with sha256 " + r.archive().get().sha256());
                        }
                        archives.put(archiveName, kept);
                        archivedAt.put(archiveName, clock.instant());
                        written.add(archiveName);
                        ArchiveInfo info = new ArchiveInfo("/var/lib/fleet/migrations/" + archiveName, 1000,
                                kept.sha256());
                        return OperationStatus.succeeded(r.key(), done, Optional.of(info), Map.of());
                    }
                    Map<String, Container> cs = new TreeMap<>();
                    Map<String, Volume> vs = new TreeMap<>();
                    for (String c : containerNames(r.app())) {
                        Container k = containers.get(c);
                        if (k == null) {
                            throw new NodeOperationException(id, "snapshot", "app " + r.app() + " not found");
                        }
                        cs.put(c, k);
                        Volume v = volumes.get(c + "-data");
                        if (v != null) {
                            vs.put(v.name(), v);
                        }
                    }
                    String sha = sha(m + cs.keySet().toString() + vs.values());
                    archives.put(archiveName, new Archive(sha, cs, vs));
                    archivedAt.put(archiveName, clock.instant());
                    written.add(archiveName);
                    ArchiveInfo info = new ArchiveInfo("/var/lib/fleet/migrations/" + archiveName, 1000, sha);
                    return OperationStatus.succeeded(r.key(), done, Optional.of(info), Map.of());
                }
                case TRANSFER -> {
                    Archive a = archives.get(archiveName);
                    if (a == null) {
                        throw new NodeOperationException(id, "transfer", "no archive " + archiveName);
                    }
                    nodeOf(r.target()).archives.put(archiveName, a);
                    nodeOf(r.target()).archivedAt.put(archiveName, clock.instant());
                    return OperationStatus.succeeded(r.key(), done, Optional.empty(),
                            Map.of(Orchestrator.FACT_VERIFIED_SHA256, a.sha256()));
                }
                case RESTORE -> {
                    Archive a = archives.get(archiveName);
                    if (a == null) {
                        throw new NodeOperationException(id, "restore", "no archive " + archiveName);
                    }
                    Map<String, String> ours = Map.of(LABEL_MIGRATION, m.value(), LABEL_EPOCH,
                            String.valueOf(r.key().epoch()));
                    for (Container k : a.containers().values()) {
                        Container existing = containers.get(k.name);
                        if (existing != null && !m.value().equals(existing.labels.get(LABEL_MIGRATION))) {
                            throw new NodeOperationException(id, "restore", "container " + k.name
                                    + " exists and was not created by this migration");
                        }
                    }
                    for (Volume v : a.volumes().values()) {
                        Volume existing = volumes.get(v.name());
                        if (existing != null && !m.value().equals(existing.labels().get(LABEL_MIGRATION))) {
                            if (!existing.labels().containsKey(LABEL_RETAINED)) {
                                throw new NodeOperationException(id, "restore", "volume " + v.name()
                                        + " exists and was not created by this migration");
                            }
                            stashed.computeIfAbsent(m, x -> new TreeMap<>()).put(v.name(), existing);
                        }
                    }
                    for (Container k : a.containers().values()) {
                        Map<String, String> labels = new TreeMap<>(k.labels);
                        labels.putAll(ours);
                        containers.put(k.name, new Container(k.name, false, k.restartPolicy, labels, k.app));
                    }
                    for (Volume v : a.volumes().values()) {
                        volumes.put(v.name(), new Volume(v.name(), v.fingerprint(), ours));
                    }
                    return OperationStatus.succeeded(r.key(), done, Optional.empty(),
                            Map.of(Orchestrator.FACT_VERIFIED_SHA256, a.sha256()));
                }
                case STOP_SOURCE -> {
                    Map<String, Boolean> running = new TreeMap<>();
                    Map<String, String> policies = new TreeMap<>();
                    for (String c : containerNames(r.app())) {
                        Container k = containers.get(c);
                        if (k == null) {
                            throw new NodeOperationException(id, "stop-source", "app " + r.app() + " not found");
                        }
                        running.put(c, k.running);
                        policies.put(c, k.restartPolicy);
                        containers.put(c, k.policy("no").running(false));
                    }
                    originals.putIfAbsent(m, new Original(running, policies));
                    return OperationStatus.succeeded(r.key(), done, Optional.empty(), Map.of());
                }
                case START_TARGET -> {
                    for (String c : containerNames(r.app())) {
                        Container k = containers.get(c);
                        if (k == null || !m.value().equals(k.labels.get(LABEL_MIGRATION))) {
                            throw new NodeOperationException(id, "start-target", "no restored container " + c);
                        }
                        containers.put(c, k.running(true));
                    }
                    checkTwoCopies(r.app());
                    return OperationStatus.succeeded(r.key(), done, Optional.empty(),
                            Map.of(Orchestrator.FACT_HEALTHY, "true"));
                }
                case RETIRE_SOURCE -> {
                    for (String c : containerNames(r.app())) {
                        Container k = containers.remove(c);
                        if (k != null) {
                            containers.put(retiredName(c, m), k.renamed(retiredName(c, m)));
                            Volume v = volumes.get(c + "-data");
                            if (v != null) {
                                Map<String, String> labels = new TreeMap<>(v.labels());
                                labels.put(LABEL_RETAINED, m.value());
                                volumes.put(v.name(), new Volume(v.name(), v.fingerprint(), labels));
                            }
                        }
                    }
                    return OperationStatus.succeeded(r.key(), done, Optional.empty(), Map.of());
                }
                default -> throw new NodeOperationException(id, r.kind().wireName(), "not a node operation");
            }
        }

        NodeInventory inventory() {
            List<NodeInventory.Container> cs = new ArrayList<>();
            for (Container k : containers.values()) {
                cs.add(new NodeInventory.Container(k.name, k.running, k.restartPolicy, k.labels));
            }
            List<NodeInventory.Volume> vs = new ArrayList<>();
            for (Volume v : volumes.values()) {
                vs.add(new NodeInventory.Volume(v.name(), v.fingerprint(), v.labels()));
            }
            return new NodeInventory(cs, vs);
        }

        private final class Agent implements NodeAgent {
            @Override
            public NodeId node() {
                return id;
            }

            @Override
            public PreflightReport preflight(PreflightRequest request) {
                synchronized (FakeFleet.this) {
                    maybeUnavailable("preflight");
                    settle();
                    List<String> problems = new ArrayList<>();
                    Map<String, String> facts = new HashMap<>();
                    for (String c : containerNames(request.app())) {
                        Container k = containers.get(c);
                        if (request.role() == Role.SOURCE) {
                            if (k == null) {
                                problems.add("app '" + request.app() + "' has no container " + c + " on node " + id);
                            } else if (k.labels.containsKey("fleet.port")) {
                                facts.put(Orchestrator.FACT_APP_PORT, k.labels.get("fleet.port"));
                            }
                        } else if (k != null && !request.migration().value().equals(k.labels.get(LABEL_MIGRATION))) {
                            problems.add("container '" + c + "' already exists on node " + id
                                    + " and was not created by this migration");
                        }
                    }
                    return new PreflightReport(problems, 1000, facts);
                }
            }

            @Override
            public OperationStatus submit(OperationRequest request) {
                synchronized (FakeFleet.this) {
                    maybeUnavailable("submit");
                    OperationKey key = request.key();
                    fence(request.app(), key.epoch());
                    settle();
                    String jk = key.migration() + "/" + key.kind();
                    Op op = journal.get(jk);
                    if (op == null) {
                        Duration d = maxDuration.isZero() ? Duration.ZERO
                                : Duration.ofMillis((long) (random.nextDouble() * maxDuration.toMillis()));
                        op = new Op(request, clock.instant().plus(d),
                                random.nextDouble() < failureRate || failing.contains(key.kind()));
                        journal.put(jk, op);
                        running.add(op);
                        workStarts.merge(jk, 1, Integer::sum);
                        settle();
                    } else if (op.key.epoch() < key.epoch()) {
                        op.key = key; // adopted by a newer control plane: the work goes on
                        op.status = op.status.withKey(key);
                    }
                    return op.status;
                }
            }

            @Override
            public Optional<OperationStatus> status(OperationKey key) {
                synchronized (FakeFleet.this) {
                    maybeUnavailable("status");
                    Op op = journal.get(key.migration() + "/" + key.kind());
                    if (op == null) {
                        return Optional.empty();
                    }
                    fence(op.request.app(), key.epoch());
                    settle();
                    if (op.key.epoch() < key.epoch()) {
                        op.key = key;
                        op.status = op.status.withKey(key);
                    }
                    return Optional.of(op.status);
                }
            }

            @Override
            public List<String> compensate(CompensationRequest request) {
                synchronized (FakeFleet.this) {
                    fence(request.app(), request.epoch());
                    settle();
                    MigrationId m = request.migration();
                    List<String> actions = new ArrayList<>();
                    for (Op op : running) {
                        if (op.request.key().migration().equals(m)
                                && op.status.phase() == OperationStatus.Phase.RUNNING) {
                            op.status = OperationStatus.failed(op.key, "cancelled by compensation");
                            actions.add("cancelled " + op.key.kind().wireName());
                        }
                    }
                    if (request.role() == Role.TARGET) {
                        containers.values().removeIf(k -> {
                            boolean ours = m.value().equals(k.labels.get(LABEL_MIGRATION));
                            if (ours) {
                                actions.add("removed container " + k.name);
                            }
                            return ours;
                        });
                        volumes.values().removeIf(v -> m.value().equals(v.labels().get(LABEL_MIGRATION)));
                        Map<String, Volume> stash = stashed.remove(m);
                        if (stash != null) {
                            volumes.putAll(stash);
                            actions.add("put back retained volumes " + stash.keySet());
                        }
                    } else {
                        for (String c : containerNames(request.app())) {
                            Container retired = containers.remove(retiredName(c, m));
                            if (retired != null) {
                                containers.put(c, retired.renamed(c));
                                actions.add("renamed " + retiredName(c, m) + " back to " + c);
                            }
                            Volume v = volumes.get(c + "-data");
                            if (v != null && m.value().equals(v.labels().get(LABEL_RETAINED))) {
                                Map<String, String> labels = new TreeMap<>(v.labels());
                                labels.remove(LABEL_RETAINED);
                                volumes.put(v.name(), new Volume(v.name(), v.fingerprint(), labels));
                            }
                        }
                        Original original = originals.remove(m);
                        if (original != null) {
                            for (Map.Entry<String, String> e : original.policies().entrySet()) {
                                Container k = containers.get(e.getKey());
                                if (k != null) {
                                    containers.put(k.name, k.policy(e.getValue())
                                            .running(original.running().get(e.getKey())));
                                    actions.add("restored " + k.name);
                                }
                            }
                            checkTwoCopies(request.app());
                        }
                    }
                    // the source keeps its archive (a replay may adopt it; retention sweeps it); the
                    // target's copy goes with the rest of what the migration made there
                    if (request.role() == Role.TARGET && archives.remove(m + ".tar") != null) {
                        actions.add("removed archive " + m + ".tar");
                    }
                    return actions;
                }
            }

            @Override
            public List<String> sweepArchives(java.time.Instant olderThan, java.util.Set<MigrationId> keep) {
                synchronized (FakeFleet.this) {
                    List<String> removed = new ArrayList<>();
                    for (String name : new ArrayList<>(archives.keySet())) {
                        MigrationId m = MigrationId.of(name.substring(0, name.length() - ".tar".length()));
                        java.time.Instant at = archivedAt.getOrDefault(name, java.time.Instant.MIN);
                        if (!keep.contains(m) && at.isBefore(olderThan)) {
                            archives.remove(name);
                            archivedAt.remove(name);
                            removed.add("removed archive " + name);
                        }
                    }
                    return removed;
                }
            }

            @Override
            public NodeInventory inventory() {
                synchronized (FakeFleet.this) {
                    settle();
                    return Node.this.inventory();
                }
            }
        }
    }

    static String retiredName(String container, MigrationId m) {
        return container + ".migrated-" + m.shortId();
    }

    private static String sha(String s) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(d);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
