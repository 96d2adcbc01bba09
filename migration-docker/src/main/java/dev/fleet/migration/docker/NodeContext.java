package dev.fleet.migration.docker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.spi.Transport;
import dev.fleet.migration.docker.internal.Engine;
import dev.fleet.migration.docker.internal.Journal;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/** What both sides of the agent share: the engine, the journal, the archive directory and the settings. */
final class NodeContext {
    static final String LABEL_ID = "dev.fleet.migration.id";
    static final String LABEL_EPOCH = "dev.fleet.migration.epoch";
    static final String LABEL_PORT = "fleet.port";
    static final String COMPOSE_PROJECT = "com.docker.compose.project";
    static final String RETIRED = ".migrated-";
    static final String IMAGE_REPO = "fleet-migration/";

    final NodeId node;
    final Engine engine;
    final Journal journal;
    final Path archiveDir;
    final Transport transport;
    final Map<NodeId, DockerNodeAgent.Peer> peers;
    final Clock clock;
    final Duration stopTimeout;
    final boolean probeHostPorts;
    final String healthHost;
    final DockerNodeAgent.ContainerFilesystem filesystem;
    /** Volumes on btrfs or ZFS: snapshots, native streams, the volume pool. Set once by the agent's constructor. */
    dev.fleet.migration.docker.cow.CowStorage cow;

    NodeContext(NodeId node, Engine engine, Journal journal, Path archiveDir, Transport transport,
                Map<NodeId, DockerNodeAgent.Peer> peers, Clock clock, Duration stopTimeout, boolean probeHostPorts,
                String healthHost, DockerNodeAgent.ContainerFilesystem filesystem) {
        this.filesystem = filesystem;
        this.node = node;
        this.engine = engine;
        this.journal = journal;
        this.archiveDir = archiveDir;
        this.transport = transport;
        this.peers = Map.copyOf(peers);
        this.clock = clock;
        this.stopTimeout = stopTimeout;
        this.probeHostPorts = probeHostPorts;
        this.healthHost = healthHost;
    }

    Path archive(MigrationId m) {
        return archiveDir.resolve(m.value() + ".tar");
    }

    Path delta(MigrationId m) {
        return archiveDir.resolve(m.value() + ".delta.tar");
    }

    Path fence(MigrationId m) {
        return archiveDir.resolve(m.value() + ".fence");
    }

    /** The directory under the engine's data root that holds restores' staging trees. */
    static final String STAGING_DIR = "fleet-staging";

    /** Where staging trees go, once found: see {@link #stagingRoot()}. */
    private volatile Path stagingRoot;

    /**
     * Where a restore unpacks an archive: {@code <staging root>/<migration>.staging}, on the
     * engine's data root so that each volume's tree moves into its volume by a rename.
     */
    Path staging(MigrationId m) {
        return stagingRoot().resolve(m.value() + ".staging");
    }

    /**
     * {@code <DockerRootDir>/fleet-staging} as the engine's {@code /info} names it: beside
     * {@code <DockerRootDir>/volumes} and inside the bind mount dockerd makes of its data root,
     * so a staged tree renames into {@code volumes/<name>/_data} instead of being copied (never
     * inside {@code volumes/}: dockerd takes every directory there for a volume). It is made
     * here (mode 0700) and must be a real directory, not a link. The archive directory when the
     * engine does not say, or its data root is not a directory on this host (an agent that does
     * not share the engine's filesystem), or the directory cannot be made: the restore then copies
     * each volume in, as before. Never throws; an engine that does not answer is asked again next
     * time (until then, compensation and the sweep look in the archive directory only).
     */
    Path stagingRoot() {
        Path known = stagingRoot;
        if (known != null) {
            return known;
        }
        Path found = archiveDir;
        boolean settled = false;
        try {
            JsonNode info = engine.get("/info");
            String root = info == null ? "" : info.path("DockerRootDir").asText("");
            settled = info != null;
            Path dataRoot = root.startsWith("/") && root.indexOf('\0') < 0 ? Path.of(root) : null;
            // an absolute path without . or .. components, a real directory on this host
            if (dataRoot != null && dataRoot.normalize().equals(dataRoot) && dataRoot.getParent() != null
                    && java.nio.file.Files.isDirectory(dataRoot, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Path dir = dataRoot.resolve(STAGING_DIR);
                try {
                    java.nio.file.Files.createDirectory(dir, java.nio.file.attribute.PosixFilePermissions
                            .asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
                } catch (java.nio.file.FileAlreadyExistsException exists) {
                    // made by an earlier restore; checked below
                }
                if (java.nio.file.Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    found = dir;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(NodeContext.class).warn("node {}: restores stage in {}: the engine's"
                    + " data root is not usable for staging ({})", node, archiveDir, e.toString());
        }
        if (settled) {
            stagingRoot = found; // an unreachable engine is asked again next time
        }
        return found;
    }

    /**
     * Everything this node keeps on disk for one migration: every name in the archive directory
     * that starts with {@code <migration>.} (archive, delta, spool, fence), or with
     * {@code .<migration>.} (a transport's partial file), and its staging tree in the
     * {@link #stagingRoot() staging root}. Migration ids hold no dot, so one id's prefix never
     * matches another's.
     */
    List<Path> files(MigrationId m) {
        List<Path> out = new ArrayList<>(files(archiveDir, m));
        Path staging = stagingRoot(); // after a restart too: a restore that was cut off staged there
        if (!staging.equals(archiveDir)) {
            out.addAll(files(staging, m));
        }
        return out;
    }

    /** The names in {@code dir} that start with {@code <migration>.} or {@code .<migration>.}. */
    static List<Path> files(Path dir, MigrationId m) {
        String own = m.value() + ".";
        String hidden = "." + own;
        try (var s = java.nio.file.Files.list(dir)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(own) || n.startsWith(hidden);
            }).sorted().toList();
        } catch (java.nio.file.NoSuchFileException e) {
            return List.of();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The image a container's filesystem is committed to for one migration. */
    static String imageFor(String container, MigrationId m) {
        String repo = container.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "-");
        while (!repo.isEmpty() && !Character.isLetterOrDigit(repo.charAt(0))) {
            repo = repo.substring(1);
        }
        return IMAGE_REPO + (repo.isEmpty() ? "app" : repo) + ":" + m.value();
    }

    static String name(JsonNode inspect) {
        String n = inspect.path("Name").asText();
        return n.startsWith("/") ? n.substring(1) : n;
    }

    static String retiredName(String name, MigrationId m) {
        return name + RETIRED + m.shortId();
    }

    /** The inspect of a container by exact name, or null. */
    JsonNode container(String name) {
        JsonNode n = engine.get("/containers/" + Engine.q(name) + "/json");
        return n != null && name(n).equals(name) ? n : null;
    }

    /**
     * The app's containers on this node (full inspects, by name): the named container, or every
     * container of the compose project except retired ones.
     */
    List<JsonNode> resolve(AppRef app) {
        List<JsonNode> out = new ArrayList<>();
        if (app.kind() == AppRef.Kind.CONTAINER) {
            JsonNode c = container(app.name());
            if (c != null) {
                out.add(c);
            }
        } else {
            for (JsonNode summary : engine.list("/containers/json?all=1&"
                    + Engine.labelFilter(COMPOSE_PROJECT + "=" + app.name()))) {
                String n = summary.path("Names").path(0).asText().replaceFirst("^/", "");
                if (n.contains(RETIRED)) {
                    continue;
                }
                JsonNode c = container(n);
                if (c != null) {
                    out.add(c);
                }
            }
        }
        out.sort(Comparator.comparing(NodeContext::name));
        return out;
    }

    /** The named volumes the containers mount, in order of first use. */
    static List<String> volumes(List<JsonNode> containers) {
        List<String> out = new ArrayList<>();
        for (JsonNode c : containers) {
            for (JsonNode m : c.path("Mounts")) {
                if ("volume".equals(m.path("Type").asText()) && !out.contains(m.path("Name").asText())) {
                    out.add(m.path("Name").asText());
                }
            }
        }
        return out;
    }

    /** Bind mounts, as "container: /host -> /path". */
    static List<String> bindMounts(List<JsonNode> containers) {
        List<String> out = new ArrayList<>();
        for (JsonNode c : containers) {
            for (JsonNode m : c.path("Mounts")) {
                if ("bind".equals(m.path("Type").asText())) {
                    out.add(name(c) + ": " + m.path("Source").asText() + " -> " + m.path("Destination").asText());
                }
            }
        }
        return out;
    }

    /**
     * The port a container serves on: its {@code fleet.port} label, else its first published
     * host port, else (host networking) its first exposed port.
     */
    static OptionalInt port(JsonNode c) {
        String label = c.path("Config").path("Labels").path(LABEL_PORT).asText("");
        if (label.matches("[0-9]{1,5}")) {
            return OptionalInt.of(Integer.parseInt(label));
        }
        var bindings = c.path("HostConfig").path("PortBindings");
        for (var binding : bindings.properties()) {
            for (JsonNode b : binding.getValue()) {
                String hp = b.path("HostPort").asText("");
                if (hp.matches("[0-9]{1,5}")) {
                    return OptionalInt.of(Integer.parseInt(hp));
                }
            }
        }
        if ("host".equals(c.path("HostConfig").path("NetworkMode").asText())) {
            var exposed = c.path("Config").path("ExposedPorts").fieldNames();
            if (exposed.hasNext()) {
                String p = exposed.next().replaceAll("/.*", "");
                if (p.matches("[0-9]{1,5}")) {
                    return OptionalInt.of(Integer.parseInt(p));
                }
            }
        }
        return OptionalInt.empty();
    }

    /** A volume's inspect, or null. */
    JsonNode volume(String name) {
        return engine.get("/volumes/" + Engine.q(name));
    }

    Path mountpoint(JsonNode volume) {
        if (!"local".equals(volume.path("Driver").asText())) {
            throw new dev.fleet.migration.core.NodeOperationException(node, "volume",
                    "volume " + volume.path("Name").asText() + " uses driver " + volume.path("Driver").asText()
                            + "; only the local driver can be read on the node");
        }
        // a bind volume's data lives at its device; its _data directory is empty while no container runs
        return dev.fleet.migration.docker.cow.VolumeBackend.dataPath(volume);
    }

    boolean ours(JsonNode labels, MigrationId m) {
        return m.value().equals(labels.path(LABEL_ID).asText());
    }
}
