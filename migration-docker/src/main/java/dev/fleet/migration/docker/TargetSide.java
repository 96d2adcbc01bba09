package dev.fleet.migration.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.Names;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.PreflightReport;
import dev.fleet.migration.core.spi.PreflightRequest;
import dev.fleet.migration.docker.archive.ArchiveReader;
import dev.fleet.migration.docker.archive.Manifest;
import dev.fleet.migration.docker.archive.NoSpaceException;
import dev.fleet.migration.docker.archive.VolumeTarExtractor;
import dev.fleet.migration.docker.archive.VolumeTarWriter;
import dev.fleet.migration.docker.internal.Engine;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The target's operations: preflight, restore, start behind the health gate, and undoing them. */
final class TargetSide {
    private static final Logger log = LoggerFactory.getLogger(TargetSide.class);
    private final NodeContext ctx;

    TargetSide(NodeContext ctx) {
        this.ctx = ctx;
    }

    PreflightReport preflight(PreflightRequest r) {
        List<String> problems = new ArrayList<>();
        Map<String, String> facts = new HashMap<>();
        for (JsonNode c : ctx.resolve(r.app())) {
            if (!ctx.ours(c.path("Config").path("Labels"), r.migration())) {
                problems.add("a container named '" + NodeContext.name(c) + "' already exists on node " + ctx.node
                        + " and was not created by migration " + r.migration() + ": the restore would need its name");
            }
        }
        try {
            Files.createDirectories(ctx.archiveDir);
            long free = Files.getFileStore(ctx.archiveDir).getUsableSpace();
            Path staging = ctx.stagingRoot();
            if (staging.equals(ctx.archiveDir) || sameFilesystem(staging, ctx.archiveDir)) {
                // the archive and its staging copy, which becomes the volumes (moved, so counted once)
                long needed = r.expectedBytes() * 2;
                if (free < needed) {
                    problems.add("node " + ctx.node + " has " + free + " bytes free in " + ctx.archiveDir
                            + (staging.equals(ctx.archiveDir) ? "" : " (and " + staging + " on the same filesystem)")
                            + " but the migration needs about " + needed + " there (the archive, and its staging"
                            + " copy that becomes the volumes)");
                }
            } else {
                long needed = r.expectedBytes();
                if (free < needed) {
                    problems.add("node " + ctx.node + " has " + free + " bytes free in " + ctx.archiveDir
                            + " but the archive needs about " + needed + " there");
                }
                long freeStaging = Files.getFileStore(staging).getUsableSpace();
                if (freeStaging < needed) {
                    problems.add("node " + ctx.node + " has " + freeStaging + " bytes free in " + staging
                            + " (the engine's data root, where the archive is unpacked and the volumes are restored)"
                            + " but the migration needs about " + needed + " there");
                }
                facts.put("target.free.staging", String.valueOf(freeStaging));
            }
            facts.put("target.free", String.valueOf(free));
        } catch (IOException e) {
            problems.add("archive directory " + ctx.archiveDir + " or staging directory " + ctx.stagingRoot()
                    + " is not usable on node " + ctx.node + ": " + e.getMessage());
        }
        JsonNode info = ctx.engine.get("/info");
        if (info != null) {
            facts.put("target.arch", info.path("Architecture").asText());
        }
        ctx.cow.targetPreflight(problems, facts);
        DockerNodeAgent.encodingProblem().ifPresent(problems::add);
        return new PreflightReport(problems, 0, facts);
    }

    Operation.Result restore(Operation op) throws IOException {
        MigrationId m = op.request.key().migration();
        ArchiveInfo archive = op.request.archive().orElseThrow(() -> new NodeOperationException(ctx.node, "restore",
                "the request names no archive"));
        Path file = ctx.archiveDir.resolve(archive.fileName());
        if (!Files.isRegularFile(file)) {
            throw new NodeOperationException(ctx.node, "restore", "archive " + file + " has not arrived on node "
                    + ctx.node);
        }
        op.total(Files.size(file));
        Path staging = ctx.staging(m);
        Laps laps = new Laps("restore.ms."); // where the time went, for operators and the benchmark
        ArchiveReader.Verified verified;
        try {
            verified = ArchiveReader.extract(file, Optional.of(archive.sha256()), staging, op::add);
        } catch (NoSpaceException full) {
            // staging is removed already; say which node, which volume (or image) and which filesystem
            Path where = full.where();
            Path parent = where == null ? null : where.getParent();
            boolean volume = parent != null && parent.getFileName() != null
                    && parent.getFileName().toString().equals("volumes");
            throw new NodeOperationException(ctx.node, "restore", "no space left on device on node " + ctx.node
                    + (volume ? " for volume " + Names.quote(where.getFileName().toString()) : "")
                    + " while the archive was unpacked into staging: "
                    + full.getMessage().replaceFirst("^no space left on device: ", ""), full);
        }
        Manifest manifest = verified.manifest();
        laps.lap("extract");
        Map<String, String> moved = new LinkedHashMap<>(); // per volume: renamed from staging, or copied
        try {
            List<String> refused = new ArrayList<>();
            for (Manifest.ContainerSpec c : manifest.containers()) {
                refused.addAll(HostConfigPolicy.problems(c.name(), c.inspect().path("HostConfig")));
            }
            if (!refused.isEmpty()) {
                throw new NodeOperationException(ctx.node, "restore", "the archive asks for more than a migrated "
                        + "container may have: " + String.join("; ", refused));
            }
            checkConflicts(manifest, m);
            op.checkCancelled("restore");
            if (Files.exists(staging.resolve(Manifest.IMAGE_ENTRY))) {
                try (InputStream in = Files.newInputStream(staging.resolve(Manifest.IMAGE_ENTRY))) {
                    checkStream("load the image", ctx.engine.upload("/images/load?quiet=1", in, "application/x-tar"));
                }
            }
            for (Manifest.ContainerSpec c : manifest.containers()) {
                Path rootfs = staging.resolve("rootfs").resolve(c.name() + ".tar");
                if (Files.exists(rootfs)) { // exported, not saved: import it under the name the create uses
                    int colon = c.image().lastIndexOf(':');
                    try (InputStream in = Files.newInputStream(rootfs)) {
                        checkStream("import the filesystem of " + c.name(), ctx.engine.upload("/images/create?fromSrc=-"
                                + "&repo=" + Engine.q(c.image().substring(0, colon)) + "&tag="
                                + Engine.q(c.image().substring(colon + 1)), in, "application/x-tar"));
                    }
                }
            }
            laps.lap("image");
            for (Manifest.VolumeSpec v : manifest.volumes()) {
                op.checkCancelled("restore");
                ObjectNode create = Manifest.JSON.createObjectNode().put("Name", v.name())
                        .put("Driver", v.driver() == null || v.driver().isEmpty() ? "local" : v.driver());
                ObjectNode labels = create.putObject("Labels");
                v.labels().forEach(labels::put);
                labels.put(NodeContext.LABEL_ID, m.value());
                labels.put(NodeContext.LABEL_EPOCH, String.valueOf(op.request.key().epoch()));
                // with a volume pool: a bind volume on a fresh subvolume or dataset, maybe received natively
                boolean received = ctx.cow.placeVolume(m, v.name(), create);
                JsonNode created = ctx.engine.post("/volumes/create", create);
                if (!received) {
                    Path mountpoint = ctx.mountpoint(created);
                    try {
                        moved.put("restore.volume." + v.name() + ".moved",
                                moveInto(staging.resolve("volumes").resolve(v.name()), mountpoint, v.name()));
                    } catch (IOException | RuntimeException e) {
                        if (NoSpaceException.causedBy(e)) {
                            // cp's "No space left on device", or the in-process copy's NoSpaceException;
                            // the volume stays labelled with this migration: compensation removes it
                            throw new NodeOperationException(ctx.node, "restore", "no space left on device on node "
                                    + ctx.node + " for volume " + Names.quote(v.name()) + ": it holds "
                                    + NoSpaceException.bytes(entrySize(verified, v)) + " but " + mountpoint
                                    + " ran out of space while it was copied there ("
                                    + NoSpaceException.space(mountpoint) + ")"
                                    + (e instanceof NoSpaceException ? "" : ": " + e.getMessage()), e);
                        }
                        throw e;
                    }
                }
            }
            laps.lap("volumes");
            for (Manifest.ContainerSpec c : manifest.containers()) {
                ctx.engine.post("/containers/create?name=" + Engine.q(c.name()), createBody(c, m,
                        op.request.key().epoch()));
            }
            laps.lap("containers");
        } finally {
            VolumeTarExtractor.removeTree(staging);
        }
        laps.lap("cleanup");
        laps.span("create", "image"); // volumes, containers and cleanup together
        Map<String, String> timing = new LinkedHashMap<>();
        laps.addTo(timing);
        log.info("node {}: restore of {}: {}", ctx.node, m, timing);
        Map<String, String> facts = new LinkedHashMap<>(timing);
        facts.putAll(moved);
        facts.put(Orchestrator.FACT_VERIFIED_SHA256, verified.sha256());
        facts.put("restore.containers", String.valueOf(manifest.containers().size()));
        facts.put("restore.volumes", String.valueOf(manifest.volumes().size()));
        return Operation.Result.facts(facts);
    }

    private void checkStream(String what, String response) {
        if (response.contains("\"errorDetail\"") || response.contains("\"error\"")) {
            throw new NodeOperationException(ctx.node, "restore", "the engine could not " + what + ": " + response);
        }
    }

    /**
     * Nothing foreign may be overwritten: a container or volume of the same name that this
     * migration did not create is a conflict. A volume kept by an earlier migration that retired
     * its source here may be replaced (with the retired container that still mounts it); so may
     * leftovers of this migration from an interrupted attempt. Host ports must be free.
     */
    private void checkConflicts(Manifest manifest, MigrationId m) {
        for (Manifest.ContainerSpec c : manifest.containers()) {
            JsonNode existing = ctx.container(c.name());
            if (existing != null) {
                if (!ctx.ours(existing.path("Config").path("Labels"), m)) {
                    throw new NodeOperationException(ctx.node, "restore", "a container named '" + c.name()
                            + "' already exists on node " + ctx.node + " and was not created by this migration");
                }
                ctx.engine.delete("/containers/" + existing.path("Id").asText() + "?force=1");
            }
        }
        List<String> released = new ArrayList<>();
        for (Manifest.VolumeSpec v : manifest.volumes()) {
            JsonNode existing = ctx.volume(v.name());
            if (existing == null) {
                continue;
            }
            Optional<String> retainedBy = ctx.journal.retainedBy(v.name());
            if (ctx.ours(existing.path("Labels"), m)) {
                ctx.engine.delete("/volumes/" + Engine.q(v.name()));
            } else if (retainedBy.isPresent()) {
                for (JsonNode user : ctx.engine.list("/containers/json?all=1&filters="
                        + Engine.q("{\"volume\":[\"" + v.name() + "\"]}"))) {
                    String n = user.path("Names").path(0).asText().replaceFirst("^/", "");
                    if (!n.contains(NodeContext.RETIRED)) {
                        throw new NodeOperationException(ctx.node, "restore", "volume '" + v.name()
                                + "' was retained by migration " + retainedBy.get() + " but container '" + n
                                + "' uses it now");
                    }
                    ctx.engine.delete("/containers/" + user.path("Id").asText() + "?force=1");
                }
                ctx.engine.delete("/volumes/" + Engine.q(v.name()));
                ctx.cow.dropReplaced(v.name(), existing); // its subvolume or dataset, when we had placed it in the pool
                released.add(v.name());
            } else {
                throw new NodeOperationException(ctx.node, "restore", "a volume named '" + v.name()
                        + "' already exists on node " + ctx.node + " and was not created by this migration");
            }
        }
        ctx.journal.recordReleased(released);
        List<JsonNode> running = ctx.engine.list("/containers/json");
        for (Manifest.ContainerSpec c : manifest.containers()) {
            OptionalInt port = NodeContext.port(c.inspect());
            if (port.isEmpty()) {
                continue;
            }
            for (JsonNode r : running) {
                JsonNode other = ctx.container(r.path("Names").path(0).asText().replaceFirst("^/", ""));
                if (other != null && NodeContext.port(other).equals(port)) {
                    throw new NodeOperationException(ctx.node, "restore", "host port " + port.getAsInt()
                            + " of '" + c.name() + "' is used by container '" + NodeContext.name(other) + "' on node "
                            + ctx.node);
                }
            }
            if (ctx.probeHostPorts) {
                try (ServerSocket s = new ServerSocket()) {
                    s.bind(new InetSocketAddress(ctx.healthHost, port.getAsInt()));
                } catch (IOException e) {
                    throw new NodeOperationException(ctx.node, "restore", "host port " + port.getAsInt() + " of '"
                            + c.name() + "' is in use on node " + ctx.node);
                }
            }
        }
    }

    /** The create request: the source's config and host config, the loaded image, our labels. */
    static ObjectNode createBody(Manifest.ContainerSpec c, MigrationId m, long epoch) {
        ObjectNode body = ((ObjectNode) c.inspect().path("Config")).deepCopy();
        String id = c.inspect().path("Id").asText();
        if (id.length() >= 12 && id.startsWith(body.path("Hostname").asText("-"))) {
            body.remove("Hostname"); // docker's default hostname is the old id: let the new one get its own
        }
        body.put("Image", c.image());
        ObjectNode labels = body.has("Labels") && body.get("Labels").isObject() ? (ObjectNode) body.get("Labels")
                : body.putObject("Labels");
        labels.put(NodeContext.LABEL_ID, m.value());
        labels.put(NodeContext.LABEL_EPOCH, String.valueOf(epoch));
        body.set("HostConfig", HostConfigPolicy.forCreate(c.inspect().path("HostConfig")));
        return body;
    }

    /** Both paths on one filesystem (one device, even seen through two mounts of it). */
    private static boolean sameFilesystem(Path a, Path b) throws IOException {
        return Files.getAttribute(a, "unix:dev").equals(Files.getAttribute(b, "unix:dev"));
    }

    /** The size of a volume's entry in the archive: about what its tree needs on disk. */
    private static long entrySize(ArchiveReader.Verified verified, Manifest.VolumeSpec v) {
        return verified.index().entries().stream().filter(e -> e.name().equals(v.entry()))
                .mapToLong(dev.fleet.migration.docker.archive.ArchiveIndex.Entry::size).sum();
    }

    /**
     * Moves a staged tree into a fresh volume: renames when staging and the volume are on one
     * mount, copies otherwise. Docker bind-mounts its data root onto itself when the root's
     * mount is shared (systemd's default), so a rename from outside the data root (the archive
     * directory) into a volume fails with EXDEV even when both sit on one filesystem: staging is
     * therefore under the data root ({@link NodeContext#stagingRoot()}), and the copy is left for
     * volumes elsewhere (a volume pool, a data root the agent cannot stage in). Returns
     * {@code "rename"} or {@code "copy"}.
     */
    private static String moveInto(Path staged, Path mountpoint, String volume) throws IOException {
        List<Path> children;
        try (Stream<Path> s = Files.list(staged)) {
            children = s.toList();
        }
        String how = "rename";
        try {
            for (Path child : children) {
                Files.move(child, mountpoint.resolve(child.getFileName().toString()), StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (AtomicMoveNotSupportedException crossDevice) {
            // the first rename fails or none does: all children are on one mount, the staged tree's
            copyTree(staged, mountpoint, volume);
            how = "copy";
        }
        Map<String, Object> a = Files.readAttributes(staged, "unix:uid,gid,mode", LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(mountpoint, "unix:uid", a.get("uid"), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(mountpoint, "unix:gid", a.get("gid"), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(mountpoint, "unix:mode", ((Integer) a.get("mode")) & 07777, LinkOption.NOFOLLOW_LINKS);
        return how;
    }

    /**
     * Copies a tree across mounts, keeping owners, modes, times, hardlinks, symlinks, holes and
     * xattrs: GNU {@code cp -a} (in-kernel {@code copy_file_range}; a reflink where the
     * filesystem has them), about five times faster here than a tar stream through this JVM;
     * that stream where {@code cp} cannot be started.
     */
    private static void copyTree(Path from, Path to, String volume) throws IOException {
        Process cp;
        try {
            cp = new ProcessBuilder(List.of("cp", "-a", "-T", "--", from.toString(), to.toString()))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(false).start();
        } catch (IOException noCp) {
            copyTreeInProcess(from, to, volume);
            return;
        }
        cp.getOutputStream().close();
        byte[] err;
        try (InputStream in = cp.getErrorStream()) {
            err = in.readNBytes(4096); // cp stops at its first failure; the first lines say why
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        int exit;
        try {
            exit = cp.waitFor();
        } catch (InterruptedException e) {
            cp.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while copying " + from + " into " + to);
        }
        if (exit != 0) {
            String why = new String(err, java.nio.charset.StandardCharsets.UTF_8).strip();
            throw new IOException("could not copy the volume into " + to + ": "
                    + (why.isEmpty() ? "cp exited with " + exit : why.lines().findFirst().orElse(why)));
        }
    }

    /**
     * Copies a tree through the volume tar format in this JVM, keeping links and owners. When the
     * copy fails (the volume's filesystem is full, say), the pipe is closed so the writer thread
     * stops at its next write instead of waiting forever on a full pipe with the staged files open.
     */
    private static void copyTreeInProcess(Path from, Path to, String volume) throws IOException {
        PipedInputStream in = new PipedInputStream(1 << 20);
        PipedOutputStream out = new PipedOutputStream(in);
        AtomicReference<RuntimeException> failed = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try (out) {
                VolumeTarWriter.of(from).write(out);
            } catch (IOException | RuntimeException e) {
                failed.set(new NodeOperationException(dev.fleet.migration.core.NodeId.of("local"), "restore",
                        "could not copy " + from + ": " + e.getMessage(), e));
            }
        }, "fleet-copy-tree");
        writer.start();
        try {
            new VolumeTarExtractor(to, VolumeTarExtractor.Mode.OVERLAY, "volume " + volume, n -> {}).extract(in);
            in.transferTo(java.io.OutputStream.nullOutputStream());
        } finally {
            in.close(); // a writer blocked on the full pipe fails within a second ("Pipe closed")
            try {
                writer.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (writer.isAlive()) {
                log.warn("the copy of {} into {} did not stop within 30 s of its end", from, to);
            }
        }
        if (failed.get() != null) {
            throw failed.get();
        }
    }

    /** Containers and volumes this migration created here, by label. */
    private List<JsonNode> ourContainers(MigrationId m) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode s : ctx.engine.list("/containers/json?all=1&"
                + Engine.labelFilter(NodeContext.LABEL_ID + "=" + m.value()))) {
            JsonNode c = ctx.engine.get("/containers/" + s.path("Id").asText() + "/json");
            if (c != null) {
                out.add(c);
            }
        }
        out.sort(Comparator.comparing(NodeContext::name));
        return out;
    }

    private List<JsonNode> ourVolumes(MigrationId m) {
        JsonNode n = ctx.engine.get("/volumes?" + Engine.labelFilter(NodeContext.LABEL_ID + "=" + m.value()));
        List<JsonNode> out = new ArrayList<>();
        if (n != null) {
            n.path("Volumes").forEach(out::add);
        }
        return out;
    }

    Operation.Result start(Operation op) throws IOException, InterruptedException {
        MigrationId m = op.request.key().migration();
        Instant deadline = ctx.clock.instant().plus(op.request.deadline());
        List<JsonNode> containers = ourContainers(m);
        if (containers.isEmpty()) {
            throw new NodeOperationException(ctx.node, "start-target", "migration " + m
                    + " restored no container on node " + ctx.node);
        }
        Path delta = ctx.delta(m);
        if (!Files.isRegularFile(delta)) {
            throw new NodeOperationException(ctx.node, "start-target", "the final delta " + delta.getFileName()
                    + " has not arrived on node " + ctx.node);
        }
        Map<String, java.nio.file.Path> roots = new LinkedHashMap<>();
        for (JsonNode v : ourVolumes(m)) {
            roots.put(v.path("Name").asText(), ctx.mountpoint(v));
        }
        Laps laps = new Laps("start.ms."); // where the downtime went on this node
        ctx.cow.receiveDeltas(m, roots); // native incremental streams, when the volumes came natively
        laps.lap("receive");
        ArchiveReader.applyDelta(delta, roots, op::add); // verified completely before a byte is applied
        laps.lap("delta");
        for (JsonNode c : containers) {
            ctx.engine.postIgnoringNotModified("/containers/" + c.path("Id").asText() + "/start");
        }
        laps.lap("start");
        String why = "not checked yet";
        while (true) {
            why = unhealthy(containers);
            if (why == null) {
                String healthyAt = ctx.clock.instant().toString();
                laps.lap("healthy");
                releaseReceivedLater(m, roots);
                Map<String, String> facts = new LinkedHashMap<>();
                facts.put(Orchestrator.FACT_HEALTHY, "true");
                facts.put(Orchestrator.FACT_HEALTHY_AT, healthyAt);
                laps.addTo(facts);
                return Operation.Result.facts(facts);
            }
            if (why.startsWith("!") || ctx.clock.instant().isAfter(deadline) || op.cancellation.isCancelled()) {
                for (JsonNode c : containers) { // never leave a second, unhealthy copy running
                    ctx.engine.postIgnoringNotModified("/containers/" + c.path("Id").asText() + "/stop?t=5");
                }
                throw new NodeOperationException(ctx.node, "start-target", "the target did not become healthy within "
                        + op.request.deadline() + ": " + why.replaceFirst("^!", ""));
            }
            Thread.sleep(20); // every moment here is downtime: notice the target's first answer quickly
        }
    }

    /**
     * Drops the received bases of {@code m}'s volumes (they served the incremental receive) on a
     * thread of its own, once the target answers. Deleting subvolumes or datasets takes time (a
     * zfs destroy is half a second on zfs-fuse) and the downtime lasts until the orchestrator has
     * heard this operation finish and, when the route goes last, switched the route, so it is
     * kept out of the operation. Should it never run (the agent stops first), compensation or
     * the retention sweep drops them.
     */
    private void releaseReceivedLater(MigrationId m, Map<String, Path> roots) {
        if (!ctx.cow.hasPool()) {
            return;
        }
        Thread t = new Thread(() -> {
            try {
                ctx.cow.releaseReceived(m, roots);
            } catch (RuntimeException e) {
                log.warn("node {}: migration {} is up, but its received bases were not all dropped (the retention "
                        + "sweep will): {}", ctx.node, m, e.getMessage());
            }
        }, "fleet-release-received-" + m.value());
        t.setDaemon(true);
        t.start();
    }

    /** Null when every container passes the gate; a reason otherwise ("!" first when it cannot recover). */
    private String unhealthy(List<JsonNode> containers) {
        for (JsonNode c : containers) {
            String name = NodeContext.name(c);
            JsonNode now = ctx.engine.get("/containers/" + c.path("Id").asText() + "/json");
            if (now == null) {
                return "!container " + name + " disappeared";
            }
            JsonNode state = now.path("State");
            if (!state.path("Running").asBoolean()) {
                String status = state.path("Status").asText();
                return status.equals("exited") || status.equals("dead")
                        ? "!container " + name + " exited with code " + state.path("ExitCode").asInt()
                        : "container " + name + " is " + status;
            }
            JsonNode test = now.path("Config").path("Healthcheck").path("Test");
            if (test.isArray() && test.size() > 0 && !"NONE".equals(test.get(0).asText())) {
                String health = state.path("Health").path("Status").asText();
                if ("unhealthy".equals(health)) {
                    return "!container " + name + " reports unhealthy";
                }
                if (!"healthy".equals(health)) {
                    return "container " + name + " health is " + health;
                }
                continue;
            }
            OptionalInt port = NodeContext.port(now);
            if (port.isPresent()) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(ctx.healthHost, port.getAsInt()), 1000);
                } catch (IOException e) {
                    return "container " + name + " does not accept connections on " + ctx.healthHost + ":"
                            + port.getAsInt() + " (" + e.getMessage() + ")";
                }
            }
        }
        return null;
    }

    List<String> compensate(CompensationRequest r) {
        MigrationId m = r.migration();
        List<String> actions = new ArrayList<>();
        for (JsonNode c : ourContainers(m)) {
            ctx.engine.delete("/containers/" + c.path("Id").asText() + "?force=1");
            actions.add("removed container " + NodeContext.name(c));
        }
        for (JsonNode v : ourVolumes(m)) {
            ctx.engine.delete("/volumes/" + Engine.q(v.path("Name").asText()));
            actions.add("removed volume " + v.path("Name").asText());
        }
        JsonNode images = ctx.engine.get("/images/json?filters=" + Engine.q("{\"reference\":[\""
                + NodeContext.IMAGE_REPO + "*:" + m.value() + "\"]}"));
        if (images != null) {
            for (JsonNode i : images) {
                for (JsonNode tag : i.path("RepoTags")) {
                    ctx.engine.delete("/images/" + Engine.q(tag.asText()));
                    actions.add("removed image " + tag.asText());
                }
            }
        }
        actions.addAll(ctx.cow.compensateTarget(m)); // the subvolumes or datasets behind the removed volumes
        new SourceSide(ctx).removeFiles(m, actions);
        return actions;
    }
}
