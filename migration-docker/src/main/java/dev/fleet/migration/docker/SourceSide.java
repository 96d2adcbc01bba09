package dev.fleet.migration.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.PreflightReport;
import dev.fleet.migration.core.spi.PreflightRequest;
import dev.fleet.migration.core.spi.TransferRequest;
import dev.fleet.migration.core.spi.TransferResult;
import dev.fleet.migration.docker.archive.ArchiveWriter;
import dev.fleet.migration.docker.archive.Manifest;
import dev.fleet.migration.docker.archive.VolumeTarExtractor;
import dev.fleet.migration.docker.archive.VolumeTarWriter;
import dev.fleet.migration.docker.internal.Engine;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source's operations: preflight, snapshot, transfer, stop with the final delta, retire,
 * and undoing them.
 */
final class SourceSide {
    private static final Logger log = LoggerFactory.getLogger(SourceSide.class);
    /** Changes this close before the fence still go into the delta: clocks and timestamps are coarse. */
    private static final long FENCE_MARGIN_MILLIS = 2000;

    private final NodeContext ctx;

    SourceSide(NodeContext ctx) {
        this.ctx = ctx;
    }

    PreflightReport preflight(PreflightRequest r) {
        List<String> problems = new ArrayList<>();
        Map<String, String> facts = new HashMap<>();
        List<JsonNode> containers = ctx.resolve(r.app());
        if (containers.isEmpty()) {
            problems.add(r.app().kind() == AppRef.Kind.CONTAINER
                    ? "app '" + r.app().name() + "' does not exist on node " + ctx.node + " (no container of that name)"
                    : "app '" + r.app() + "' does not exist on node " + ctx.node + " (no container labelled "
                            + NodeContext.COMPOSE_PROJECT + "=" + r.app().name() + ")");
            return new PreflightReport(problems, 0, facts);
        }
        for (String bind : NodeContext.bindMounts(containers)) {
            problems.add("bind mount " + bind + " cannot be migrated: only named volumes are moved");
        }
        for (JsonNode c : containers) {
            problems.addAll(HostConfigPolicy.privileges(NodeContext.name(c), c.path("HostConfig")));
        }
        long estimate = 0;
        for (String v : NodeContext.volumes(containers)) {
            JsonNode vol = ctx.volume(v);
            if (vol == null || !"local".equals(vol.path("Driver").asText())) {
                problems.add("volume '" + v + "' is not a local volume on node " + ctx.node);
                continue;
            }
            estimate += treeSize(ctx.mountpoint(vol));
        }
        for (JsonNode c : containers) {
            JsonNode image = ctx.engine.get("/images/" + Engine.q(c.path("Image").asText()) + "/json");
            if (image != null) {
                estimate += image.path("Size").asLong();
                facts.putIfAbsent("source.arch", image.path("Architecture").asText());
            }
        }
        containers.stream().map(NodeContext::port).filter(p -> p.isPresent()).findFirst()
                .ifPresent(p -> facts.put(Orchestrator.FACT_APP_PORT, String.valueOf(p.getAsInt())));
        Map<String, JsonNode> onNode = new LinkedHashMap<>(); // where each volume lives, how it will travel
        for (String v : NodeContext.volumes(containers)) {
            JsonNode vol = ctx.volume(v);
            if (vol != null && "local".equals(vol.path("Driver").asText())) {
                onNode.put(v, vol);
            }
        }
        facts.putAll(ctx.cow.sourceFacts(onNode, r.target()));
        DockerNodeAgent.encodingProblem().ifPresent(problems::add);
        return new PreflightReport(problems, estimate, facts);
    }

    private static long treeSize(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            return 0;
        }
    }

    /** The containers as they are before this migration touches them, recorded once. */
    private List<JsonNode> resolveAndRecord(Operation op) {
        AppRef app = op.request.app();
        MigrationId m = op.request.key().migration();
        List<JsonNode> containers = ctx.resolve(app);
        if (containers.isEmpty()) {
            throw new NodeOperationException(ctx.node, op.request.kind().wireName(),
                    "app '" + app + "' does not exist on node " + ctx.node);
        }
        ObjectNode state = Manifest.JSON.createObjectNode();
        ArrayNode list = state.putArray("containers");
        for (JsonNode c : containers) {
            ObjectNode e = list.addObject();
            e.put("name", NodeContext.name(c));
            e.set("restartPolicy", c.path("HostConfig").path("RestartPolicy").deepCopy());
            e.put("running", c.path("State").path("Running").asBoolean());
        }
        ArrayNode images = state.putArray("images");
        containers.forEach(c -> images.add(NodeContext.imageFor(NodeContext.name(c), m)));
        ctx.journal.recordSourceState(m, state);
        return containers;
    }

    Operation.Result snapshot(Operation op) throws IOException {
        MigrationId m = op.request.key().migration();
        List<JsonNode> containers = resolveAndRecord(op);
        List<String> binds = NodeContext.bindMounts(containers);
        if (!binds.isEmpty()) {
            throw new NodeOperationException(ctx.node, "snapshot", "bind mounts cannot be migrated: " + binds);
        }
        if (op.request.archive().isPresent()) {
            return ArchiveAdoption.adopt(ctx, op); // a replay: the kept archive instead of a new snapshot
        }
        Map<String, Path> roots = new LinkedHashMap<>();
        List<Manifest.VolumeSpec> specs = new ArrayList<>();
        for (String v : NodeContext.volumes(containers)) {
            JsonNode vol = ctx.volume(v);
            if (vol == null) {
                throw new NodeOperationException(ctx.node, "snapshot", "volume '" + v + "' disappeared");
            }
            roots.put(v, ctx.mountpoint(vol));
            specs.add(new Manifest.VolumeSpec(v, vol.path("Driver").asText(), Engine.labels(vol.path("Labels"))));
        }
        op.total(roots.values().stream().mapToLong(SourceSide::treeSize).sum());
        // the fence comes first: anything changed from here on goes into the final delta
        long fence = ctx.clock.millis() - FENCE_MARGIN_MILLIS;
        // volumes on btrfs or ZFS: an atomic snapshot at the fence, read (or sent) instead of the live tree
        Map<String, JsonNode> inspects = new LinkedHashMap<>();
        roots.keySet().forEach(v -> inspects.put(v, ctx.volume(v)));
        dev.fleet.migration.docker.cow.SourceSession cow = ctx.cow.snapshot(m, op.request.target(), inspects);
        List<String> images = new ArrayList<>();
        List<Manifest.ContainerSpec> containerSpecs = new ArrayList<>();
        Path archive = ctx.archive(m);
        Files.createDirectories(ctx.archiveDir);
        Map<String, List<String>> walked = new LinkedHashMap<>();
        for (JsonNode c : containers) {
            containerSpecs.add(new Manifest.ContainerSpec(NodeContext.name(c),
                    NodeContext.imageFor(NodeContext.name(c), m), c));
        }
        Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, Manifest.KIND_SNAPSHOT, m.value(),
                op.request.app().id(), containerSpecs, specs);
        ArchiveWriter writer = null;
        Laps laps = new Laps("snapshot.ms."); // where the time went, for operators and the benchmark
        try {
            boolean saved = false;
            if (ctx.filesystem == DockerNodeAgent.ContainerFilesystem.COMMIT) {
                writer = new ArchiveWriter(archive, manifest);
                try {
                    for (JsonNode c : containers) {
                        String image = NodeContext.imageFor(NodeContext.name(c), m);
                        int colon = image.lastIndexOf(':');
                        // pause=false: the app keeps serving; its volumes, not its root filesystem, hold its state
                        ctx.engine.post("/commit?container=" + Engine.q(c.path("Id").asText()) + "&repo="
                                + Engine.q(image.substring(0, colon)) + "&tag=" + Engine.q(image.substring(colon + 1))
                                + "&pause=false", Manifest.JSON.createObjectNode());
                        images.add(image);
                    }
                    op.checkCancelled("snapshot");
                    StringBuilder names = new StringBuilder();
                    for (String image : images) {
                        names.append(names.length() == 0 ? "?" : "&").append("names=").append(Engine.q(image));
                    }
                    writer.add(Manifest.IMAGE_ENTRY, out -> ctx.engine.download("/images/get" + names, out));
                    saved = true;
                } catch (Engine.EngineException | dev.fleet.migration.docker.archive.ArchiveException e) {
                    log.warn("node {}: commit and save failed ({}); falling back to docker export", ctx.node,
                            e.getMessage());
                    // the archive is written in one pass: a part cut short cannot be taken back, so start over
                    writer.close();
                    writer = null;
                }
            }
            if (!saved) {
                writer = new ArchiveWriter(archive, manifest);
                for (JsonNode c : containers) {
                    op.checkCancelled("snapshot");
                    writer.add(Manifest.rootfsEntryFor(NodeContext.name(c)), out -> ctx.engine.download(
                            "/containers/" + c.path("Id").asText() + "/export", out));
                }
            }
            laps.lap("image");
            for (var e : roots.entrySet()) {
                op.checkCancelled("snapshot");
                List<String> paths = new ArrayList<>();
                walked.put(e.getKey(), paths);
                if (cow.sendsNatively(e.getKey())) { // its data travels as a native stream beside the archive
                    writer.add(Manifest.entryFor(e.getKey()), out -> cow.writeStub(e.getKey(), out));
                    continue;
                }
                Path from = cow.readRoot(e.getKey()).orElse(e.getValue());
                writer.add(Manifest.entryFor(e.getKey()), out -> new VolumeTarWriter(from,
                        VolumeTarWriter.Selector.ALL, paths::add, op::add).write(out));
            }
            op.checkCancelled("snapshot");
            cow.writeStreams(dev.fleet.migration.docker.cow.CowStorage.FULL, op::add);
            writeFence(ctx.fence(m), fence, walked);
            laps.lap("volumes");
            ArchiveInfo info = writer.finish();
            laps.lap("fsync");
            Map<String, String> facts = new LinkedHashMap<>();
            facts.put("snapshot.fence", String.valueOf(fence));
            laps.addTo(facts);
            log.info("node {}: snapshot of {}: {}", ctx.node, m, facts);
            return new Operation.Result(Optional.of(info), facts);
        } finally {
            if (writer != null) {
                writer.close(); // removes the unfinished file on failure; nothing once finished
            }
            for (String image : images) {
                removeImage(image);
            }
        }
    }

    private void removeImage(String image) {
        try {
            ctx.engine.delete("/images/" + Engine.q(image));
        } catch (RuntimeException e) {
            log.warn("could not remove image {} on node {}: {}", image, ctx.node, e.getMessage());
        }
    }

    private static void writeFence(Path file, long fence, Map<String, List<String>> walked) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp)))) {
            out.writeLong(fence);
            out.writeInt(walked.size());
            for (var e : walked.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeInt(e.getValue().size());
                for (String p : e.getValue()) {
                    out.writeUTF(p);
                }
            }
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private record Fence(long millis, Map<String, Set<String>> paths) {}

    private static Fence readFence(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            long millis = in.readLong();
            int volumes = in.readInt();
            Map<String, Set<String>> paths = new LinkedHashMap<>();
            for (int i = 0; i < volumes; i++) {
                String v = in.readUTF();
                int n = in.readInt();
                Set<String> set = new HashSet<>(n * 2);
                for (int j = 0; j < n; j++) {
                    set.add(in.readUTF());
                }
                paths.put(v, set);
            }
            return new Fence(millis, paths);
        }
    }

    Operation.Result transfer(Operation op) {
        ArchiveInfo archive = op.request.archive().orElseThrow(() -> new NodeOperationException(ctx.node, "transfer",
                "the request names no archive"));
        Path file = ctx.archive(op.request.key().migration());
        if (!Files.isRegularFile(file)) {
            throw new NodeOperationException(ctx.node, "transfer", "archive " + file + " does not exist on node "
                    + ctx.node);
        }
        op.total(archive.size());
        ctx.cow.session(op.request.key().migration()).push(dev.fleet.migration.docker.cow.CowStorage.FULL,
                (f, sha) -> push(op, f, f.getFileName().toString(), Optional.of(sha)));
        TransferResult result = push(op, file, archive.fileName(), Optional.of(archive.sha256()));
        String verified = result.sha256().orElseThrow(() -> new NodeOperationException(ctx.node, "transfer",
                "transport " + ctx.transport.name() + " did not report the sha256 verified on the target"));
        return Operation.Result.facts(Map.of(Orchestrator.FACT_VERIFIED_SHA256, verified,
                "transfer.bytes", String.valueOf(result.bytesSent())));
    }

    private TransferResult push(Operation op, Path file, String name, Optional<String> sha256) {
        DockerNodeAgent.Peer peer = ctx.peers.get(op.request.target());
        if (peer == null) {
            throw new NodeOperationException(ctx.node, op.request.kind().wireName(), "node " + op.request.target()
                    + " is not configured as a peer of node " + ctx.node);
        }
        TransferRequest t = new TransferRequest(file, peer.ssh(), peer.archiveDirectory(), name, sha256,
                OptionalLong.empty());
        return ctx.transport.transfer(t, p -> op.set(p.bytesDone()), op.cancellation);
    }

    Operation.Result stop(Operation op) throws IOException {
        MigrationId m = op.request.key().migration();
        List<JsonNode> containers = resolveAndRecord(op);
        for (JsonNode c : containers) {
            String id = c.path("Id").asText();
            // restart policy first, so a dockerd restart between the two steps cannot revive it
            ObjectNode update = Manifest.JSON.createObjectNode();
            update.putObject("RestartPolicy").put("Name", "no");
            ctx.engine.post("/containers/" + id + "/update", update);
        }
        // the app stops answering from here: the cutover's downtime is measured from this instant
        String signalledAt = ctx.clock.instant().toString();
        Laps laps = new Laps("stop.ms."); // where the downtime went on this node
        for (JsonNode c : containers) {
            ctx.engine.postIgnoringNotModified("/containers/" + c.path("Id").asText() + "/stop?t="
                    + ctx.stopTimeout.toSeconds());
        }
        Path fenceFile = ctx.fence(m);
        if (!Files.exists(fenceFile)) {
            throw new NodeOperationException(ctx.node, "stop-source", "the change fence of the snapshot is missing ("
                    + fenceFile + "): was the snapshot taken on this node?");
        }
        Fence fence = readFence(fenceFile);
        dev.fleet.migration.docker.cow.SourceSession cow = ctx.cow.session(m);
        laps.lap("stop");
        cow.takeFinalSnapshots(); // the app is stopped: this is the final image of each volume on a pool
        laps.lap("snapshot");
        Map<String, List<String>> deletions = new LinkedHashMap<>();
        List<Manifest.VolumeSpec> specs = new ArrayList<>();
        Path delta = ctx.delta(m);
        long changed;
        String sha;
        for (String v : fence.paths().keySet()) {
            JsonNode vol = ctx.volume(v);
            if (vol == null) {
                throw new NodeOperationException(ctx.node, "stop-source", "volume '" + v + "' disappeared");
            }
            specs.add(new Manifest.VolumeSpec(v, vol.path("Driver").asText(), Engine.labels(vol.path("Labels"))));
        }
        Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, Manifest.KIND_DELTA, m.value(),
                op.request.app().id(), List.of(), specs);
        try (ArchiveWriter writer = new ArchiveWriter(delta, manifest)) {
            long[] count = {0};
            for (var e : fence.paths().entrySet()) {
                String v = e.getKey();
                if (cow.covers(v)) { // the difference between its two snapshots
                    writer.add(Manifest.entryFor(v), out -> count[0] += cow.writeDelta(v, out, deletions, op::add));
                    continue;
                }
                Path mountpoint = ctx.mountpoint(ctx.volume(v));
                Set<String> before = e.getValue();
                Set<String> now = new HashSet<>(before.size() * 2);
                writer.add(Manifest.entryFor(v), out -> {
                    VolumeTarWriter.Stats s = new VolumeTarWriter(mountpoint, (rel, when) ->
                            when >= fence.millis() || !before.contains(rel), now::add, op::add).write(out);
                    count[0] += s.entries();
                });
                List<String> gone = topmost(before.stream().filter(p -> !now.contains(p)).toList());
                if (!gone.isEmpty()) {
                    deletions.put(v, gone);
                }
            }
            changed = count[0];
            sha = writer.finish(deletions).sha256(); // hashed as written, never read back
        }
        cow.writeStreams(dev.fleet.migration.docker.cow.CowStorage.DELTA, op::add);
        laps.lap("delta");
        cow.push(dev.fleet.migration.docker.cow.CowStorage.DELTA,
                (f, fsha) -> push(op, f, f.getFileName().toString(), Optional.of(fsha)));
        TransferResult sent = push(op, delta, delta.getFileName().toString(), Optional.of(sha));
        laps.lap("push");
        // the snapshots stay until RETIRE_SOURCE: releasing them costs time (a zfs destroy, the
        // unlink of a volume-sized stream file) that would otherwise fall inside the downtime
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("delta.sha256", sent.sha256().orElse(sha));
        facts.put("delta.entries", String.valueOf(changed));
        facts.put("delta.deletions", String.valueOf(deletions.values().stream().mapToInt(List::size).sum()));
        facts.put(Orchestrator.FACT_STOP_SIGNALLED_AT, signalledAt);
        laps.addTo(facts);
        return Operation.Result.facts(facts);
    }

    /** The deleted paths without those below another deleted path: deleting a directory deletes its tree. */
    static List<String> topmost(List<String> gone) {
        Set<String> all = new HashSet<>(gone);
        List<String> out = new ArrayList<>();
        for (String p : gone) {
            boolean covered = false;
            for (int i = p.lastIndexOf('/'); i > 0 && !covered; i = p.lastIndexOf('/', i - 1)) {
                covered = all.contains(p.substring(0, i));
            }
            if (!covered) {
                out.add(p);
            }
        }
        out.sort(null);
        return out;
    }

    Operation.Result retire(Operation op) {
        MigrationId m = op.request.key().migration();
        Optional<ObjectNode> state = ctx.journal.sourceState(m);
        if (state.isEmpty()) {
            throw new NodeOperationException(ctx.node, "retire-source", "this node has no record of migration " + m);
        }
        List<String> volumes = new ArrayList<>();
        for (JsonNode c : state.get().path("containers")) {
            String name = c.path("name").asText();
            String retired = NodeContext.retiredName(name, m);
            JsonNode inspect = ctx.container(name);
            if (inspect != null) {
                if (inspect.path("State").path("Running").asBoolean()) {
                    throw new NodeOperationException(ctx.node, "retire-source", "container '" + name
                            + "' is running again; refusing to retire a running source");
                }
                volumes.addAll(NodeContext.volumes(List.of(inspect)));
                ctx.engine.post("/containers/" + inspect.path("Id").asText() + "/rename?name=" + Engine.q(retired),
                        null);
            } else if (ctx.container(retired) == null) {
                throw new NodeOperationException(ctx.node, "retire-source", "container '" + name + "' is gone");
            }
        }
        if (!volumes.isEmpty()) {
            ctx.journal.recordRetained(m, volumes);
        }
        ctx.cow.releaseSource(m); // the final delta has been applied on the target: the snapshots have served
        return Operation.Result.facts(Map.of("source.retired", String.join(",", state.get().path("containers")
                .findValuesAsText("name").stream().map(n -> NodeContext.retiredName(n, m)).toList())));
    }

    List<String> compensate(CompensationRequest r) {
        MigrationId m = r.migration();
        List<String> actions = new ArrayList<>();
        Optional<ObjectNode> state = ctx.journal.sourceState(m);
        if (state.isPresent()) {
            List<String> released = new ArrayList<>();
            for (JsonNode c : state.get().path("containers")) {
                String name = c.path("name").asText();
                JsonNode inspect = ctx.container(name);
                if (inspect == null) {
                    JsonNode retired = ctx.container(NodeContext.retiredName(name, m));
                    if (retired != null) {
                        ctx.engine.post("/containers/" + retired.path("Id").asText() + "/rename?name="
                                + Engine.q(name), null);
                        released.addAll(NodeContext.volumes(List.of(retired)));
                        actions.add("renamed container " + NodeContext.retiredName(name, m) + " back to " + name);
                        inspect = ctx.container(name);
                    }
                }
                if (inspect == null) {
                    actions.add("container " + name + " is gone; nothing to restore");
                    continue;
                }
                JsonNode policy = c.path("restartPolicy");
                if (!policy.equals(inspect.path("HostConfig").path("RestartPolicy"))) {
                    ObjectNode update = Manifest.JSON.createObjectNode();
                    update.set("RestartPolicy", policy.deepCopy());
                    ctx.engine.post("/containers/" + inspect.path("Id").asText() + "/update", update);
                    actions.add("restored restart policy " + policy.path("Name").asText() + " of " + name);
                }
                if (c.path("running").asBoolean() && !inspect.path("State").path("Running").asBoolean()) {
                    ctx.engine.postIgnoringNotModified("/containers/" + inspect.path("Id").asText() + "/start");
                    actions.add("started container " + name);
                }
            }
            ctx.journal.recordReleased(released);
            for (JsonNode image : state.get().path("images")) {
                if (ctx.engine.get("/images/" + Engine.q(image.asText()) + "/json") != null) {
                    removeImage(image.asText());
                    actions.add("removed image " + image.asText());
                }
            }
        }
        actions.addAll(ctx.cow.releaseSource(m)); // before removeFiles: it reads the snapshot record
        removeFiles(m, actions, true);
        return actions;
    }

    void removeFiles(MigrationId m, List<String> actions) {
        removeFiles(m, actions, false);
    }

    /**
     * Removes what this node keeps on disk for {@code m}. With {@code keepFinished} (the source's
     * compensation) a finished archive and its change fence stay, so the migration can be replayed
     * without a new snapshot; the retention sweep removes them later. An archive whose volumes went
     * as native pool streams cannot be replayed (the streams are released) and is removed.
     */
    void removeFiles(MigrationId m, List<String> actions, boolean keepFinished) {
        Path archive = ctx.archive(m);
        Path fence = ctx.fence(m);
        java.nio.file.LinkOption noFollow = java.nio.file.LinkOption.NOFOLLOW_LINKS;
        boolean keep = keepFinished && Files.isRegularFile(archive, noFollow) && Files.isRegularFile(fence, noFollow)
                && !Files.exists(ctx.archiveDir.resolve(m.value() + ".cow-full.json"), noFollow);
        if (keep) {
            actions.add("kept " + archive.getFileName() + " and " + fence.getFileName()
                    + " for a replay, until the retention sweep");
        }
        for (Path p : ctx.files(m)) {
            if (keep && (p.equals(archive) || p.equals(fence))) {
                continue;
            }
            try {
                if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    VolumeTarExtractor.removeTree(p);
                    actions.add("removed " + p.getFileName());
                }
            } catch (IOException e) {
                actions.add("could not remove " + p + ": " + e.getMessage());
            }
        }
    }
}
