package dev.fleet.migration.docker;

import static dev.fleet.migration.docker.TestNodes.A;
import static dev.fleet.migration.docker.TestNodes.B;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.spi.NodeInventory;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.docker.archive.Manifest;
import dev.fleet.migration.docker.archive.TestTrees;
import dev.fleet.migration.docker.archive.TreeFingerprint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole migrations between two real Docker daemons, driven by the real orchestrator, one tick
 * at a time so the tests can act between steps.
 */
@DisplayName("Migrations between two real Docker engines")
class DockerMigrationIT {
    private TestNodes nodes;
    private Orchestrator orchestrator;

    @BeforeEach
    void setUp() {
        use(new TestNodes());
    }

    private void use(TestNodes testNodes) {
        nodes = testNodes;
        orchestrator = Orchestrator.builder()
                .store(new InMemoryMigrationStore())
                .node(nodes.a)
                .node(nodes.b)
                .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ZERO)
                        .withStepTimeout(Duration.ofMinutes(5)).withHealthDeadline(Duration.ofSeconds(60)))
                .build();
    }

    @AfterEach
    void tearDown() {
        nodes.close();
    }

    static String unique(String prefix) {
        return prefix + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);
    }

    /** Ticks until {@code until} holds (or the migration ends), failing after two minutes. */
    Migration advanceUntil(Migration m, Predicate<Migration> until) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!until.test(m) && !m.isTerminal()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("migration stuck in " + m.state() + ": " + m);
            }
            m = orchestrator.advance(m.id());
            if (!until.test(m)) {
                Thread.sleep(100);
            }
        }
        return m;
    }

    Migration migrate(AppRef app) throws InterruptedException {
        Migration m = orchestrator.create(app.id(), A.value(), B.value());
        m = advanceUntil(m, Migration::isTerminal);
        assertThat(m.state()).as("failure: %s", m.failure()).isEqualTo(MigrationState.DONE);
        return m;
    }

    JsonNode inspect(dev.fleet.migration.core.NodeId node, String name) throws Exception {
        return Manifest.JSON.readTree(nodes.docker(node, "inspect", name)).get(0);
    }

    /** The parts of docker inspect a migration must carry over unchanged. */
    static JsonNode comparable(JsonNode inspect) {
        ObjectNode config = inspect.get("Config").deepCopy();
        config.remove(List.of("Hostname", "Image"));
        ObjectNode labels = (ObjectNode) config.get("Labels");
        Iterator<String> names = labels.fieldNames();
        List<String> ours = new ArrayList<>();
        names.forEachRemaining(n -> {
            if (n.startsWith("dev.fleet.migration.")) {
                ours.add(n);
            }
        });
        labels.remove(ours);
        ObjectNode out = Manifest.JSON.createObjectNode();
        out.set("Config", config);
        out.set("HostConfig", inspect.get("HostConfig"));
        List<String> mounts = new ArrayList<>(); // the engine lists mounts in no fixed order
        for (JsonNode m : inspect.get("Mounts")) {
            mounts.add(m.path("Type").asText() + " " + m.path("Name").asText() + " -> "
                    + m.path("Destination").asText() + (m.path("RW").asBoolean() ? " rw" : " ro"));
        }
        mounts.sort(null);
        var list = out.putArray("Mounts");
        mounts.forEach(list::add);
        return out;
    }

    @Test
    @DisplayName("a container with two volumes (10,000 odd small files; 256 MiB) moves byte for byte with its config")
    void migratesContainerWithTwoVolumesByteForByte() throws Exception {
        String app = unique("web");
        String files = app + "-files";
        String big = app + "-big";
        nodes.docker(A, "volume", "create", files);
        nodes.docker(A, "volume", "create", big);
        Path filesA = nodes.mountpoint(A, files);
        TestTrees.smallFiles(filesA, 10_000);
        Files.writeString(filesA.resolve("index.html"), "served by " + app);
        TestTrees.bigFile(nodes.mountpoint(A, big).resolve("blob.bin"), 256L << 20);
        String probe = "wget -q -O /dev/null http://127.0.0.1:$PORT/index.html || exit 1";
        int port = TestNodes.freePort();
        nodes.removeLater("container", app);
        nodes.removeLater("volume", files);
        nodes.removeLater("volume", big);
        nodes.docker(A, "run", "-d", "--name", app, "--network", "host", "--restart", "unless-stopped",
                "--label", "fleet.port=" + port, "--label", "team=payments",
                "-e", "GREETING=hello world", "-e", "PORT=" + port, "-w", "/data", "--user", "0:0",
                "--health-cmd", probe, "--health-interval", "1s", "--health-retries", "30",
                "-v", files + ":/data", "-v", big + ":/big:ro",
                nodes.image, "httpd", "-f", "-p", "127.0.0.1:" + port, "-h", "/data");
        TestNodes.assertServes(port, "/index.html", "served by " + app);
        JsonNode before = inspect(A, app);

        Migration done = migrate(AppRef.container(app));

        assertThat(done.facts()).containsEntry(Orchestrator.FACT_APP_PORT, String.valueOf(port));
        // staged under b's data root, beside its volumes: moved in by rename, not copied across dockerd's bind mount
        assertThat(done.facts()).containsEntry("restore.volume." + files + ".moved", "rename")
                .containsEntry("restore.volume." + big + ".moved", "rename");
        assertThat(TreeFingerprint.of(nodes.mountpoint(B, files))).isEqualTo(TreeFingerprint.of(filesA));
        assertThat(TreeFingerprint.of(nodes.mountpoint(B, big))).isEqualTo(TreeFingerprint.of(nodes.mountpoint(A, big)));
        JsonNode after = inspect(B, app);
        assertThat(comparable(after)).isEqualTo(comparable(before));
        assertThat(after.at("/Config/Labels/dev.fleet.migration.id").asText()).isEqualTo(done.id().value());
        assertThat(after.at("/State/Running").asBoolean()).isTrue();
        assertThat(after.at("/State/Health/Status").asText()).isEqualTo("healthy");
        TestNodes.assertServes(port, "/index.html", "served by " + app);

        String retired = app + ".migrated-" + done.id().shortId();
        JsonNode source = inspect(A, retired);
        assertThat(source.at("/State/Running").asBoolean()).isFalse();
        assertThat(source.at("/HostConfig/RestartPolicy/Name").asText()).isEqualTo("no");
        assertThat(nodes.docker(A, "volume", "ls", "-q")).contains(files, big);
    }

    @Test
    @DisplayName("a two-container compose-labelled stack moves as one app and keeps its compose labels")
    void migratesComposeStackAsOneApp() throws Exception {
        String project = unique("shop");
        String shared = project + "_shared";
        nodes.docker(A, "volume", "create", "--label", "com.docker.compose.project=" + project,
                "--label", "com.docker.compose.volume=shared", shared);
        Files.writeString(nodes.mountpoint(A, shared).resolve("index.html"), "shop " + project);
        int port = nodes.deployWebApp(A, project + "-web-1", shared,
                "--label", "com.docker.compose.project=" + project, "--label", "com.docker.compose.service=web");
        nodes.removeLater("container", project + "-worker-1");
        nodes.docker(A, "run", "-d", "--name", project + "-worker-1", "--network", "none",
                "--label", "com.docker.compose.project=" + project, "--label", "com.docker.compose.service=worker",
                "-v", shared + ":/shared", nodes.image, "sh", "-c",
                "trap 'exit 0' TERM; while true; do sleep 1; done");

        List<String> names = List.of(project + "-web-1", project + "-worker-1");
        Map<String, JsonNode> before = new java.util.HashMap<>();
        for (String c : names) {
            before.put(c, inspect(A, c));
        }

        Migration done = migrate(AppRef.compose(project));

        for (String c : names) {
            JsonNode t = inspect(B, c);
            assertThat(t.at("/State/Running").asBoolean()).as(c).isTrue();
            assertThat(t.at("/Config/Labels").get("com.docker.compose.project").asText()).isEqualTo(project);
            assertThat(comparable(t)).isEqualTo(comparable(before.get(c)));
            JsonNode retired = inspect(A, c + ".migrated-" + done.id().shortId());
            assertThat(retired.at("/State/Running").asBoolean()).isFalse();
            assertThat(retired.at("/HostConfig/RestartPolicy/Name").asText()).isEqualTo("no");
        }
        JsonNode volume = Manifest.JSON.readTree(nodes.docker(B, "volume", "inspect", shared)).get(0);
        assertThat(volume.at("/Labels").get("com.docker.compose.volume").asText()).isEqualTo("shared");
        TestNodes.assertServes(port, "/index.html", "shop " + project);
        assertThat(nodes.docker(B, "ps", "--filter", "label=com.docker.compose.project=" + project,
                "--format", "{{.Names}}").lines().sorted().toList())
                .containsExactly(project + "-web-1", project + "-worker-1");
    }

    @Test
    @DisplayName("writes and deletes made after the snapshot, before the stop, arrive with the final delta")
    void deliversWritesAndDeletesMadeAfterTheSnapshot() throws Exception {
        String app = unique("delta");
        String volume = app + "-data";
        nodes.docker(A, "volume", "create", volume);
        Path data = nodes.mountpoint(A, volume);
        Files.writeString(data.resolve("index.html"), "before");
        Files.writeString(data.resolve("doomed.txt"), "delete me");
        Files.createDirectories(data.resolve("old-dir/sub"));
        Files.writeString(data.resolve("old-dir/sub/file"), "old");
        Files.writeString(data.resolve("stable.txt"), "unchanged");
        int port = nodes.deployWebApp(A, app, volume);
        nodes.docker(A, "exec", app, "sh", "-c", "echo in the root filesystem > /root/marker");

        Migration m = orchestrator.create(app, A.value(), B.value());
        // write once the snapshot is done; the cutover (which stops the source) has not begun
        m = advanceUntil(m, x -> x.finished(OperationKind.SNAPSHOT));
        assertThat(m.started(OperationKind.STOP_SOURCE)).isFalse();
        TestNodes.assertServes(port, "/index.html", "before"); // the source served throughout the snapshot
        // the app keeps serving and writing after the snapshot
        Files.writeString(data.resolve("index.html"), "after the snapshot");
        Files.writeString(data.resolve("new.txt"), "new file");
        Files.delete(data.resolve("doomed.txt"));
        nodes.docker(A, "exec", app, "sh", "-c", "rm -r /data/old-dir && mkdir -p /data/new-dir && "
                + "echo hi > /data/new-dir/x && ln /data/new.txt /data/new-hardlink && chown 1000:1000 /data/stable.txt");
        m = advanceUntil(m, Migration::isTerminal);
        assertThat(m.state()).as("failure: %s", m.failure()).isEqualTo(MigrationState.DONE);

        Path target = nodes.mountpoint(B, volume);
        assertThat(Files.readString(target.resolve("index.html"))).isEqualTo("after the snapshot");
        assertThat(target.resolve("doomed.txt")).doesNotExist();
        assertThat(target.resolve("old-dir")).doesNotExist();
        assertThat(Files.readString(target.resolve("new-dir/x"))).isEqualTo("hi\n");
        assertThat(TreeFingerprint.of(target)).isEqualTo(TreeFingerprint.of(data));
        TestNodes.assertServes(port, "/index.html", "after the snapshot");
        assertThat(nodes.docker(B, "exec", app, "cat", "/root/marker")).isEqualTo("in the root filesystem");
    }

    @Test
    @DisplayName("with docker export instead of commit and save, the container's filesystem still arrives")
    void migratesWithDockerExport() throws Exception {
        nodes.close();
        use(new TestNodes(DockerNodeAgent.ContainerFilesystem.EXPORT));
        String app = unique("export");
        String volume = app + "-data";
        nodes.docker(A, "volume", "create", volume);
        Files.writeString(nodes.mountpoint(A, volume).resolve("index.html"), "exported");
        int port = nodes.deployWebApp(A, app, volume);
        nodes.docker(A, "exec", app, "sh", "-c", "echo exported root > /root/marker");
        JsonNode before = inspect(A, app);

        migrate(AppRef.container(app));

        JsonNode after = inspect(B, app);
        assertThat(comparable(after)).isEqualTo(comparable(before));
        assertThat(nodes.docker(B, "exec", app, "cat", "/root/marker")).isEqualTo("exported root");
        TestNodes.assertServes(port, "/index.html", "exported");
    }

    @Test
    @DisplayName("a migration back in the opposite direction works and replaces the volumes the first one retained")
    void migratesBackAndReplacesRetainedVolumes() throws Exception {
        String app = unique("pingpong");
        String volume = app + "-data";
        nodes.docker(A, "volume", "create", volume);
        Files.writeString(nodes.mountpoint(A, volume).resolve("index.html"), "version 1");
        int port = nodes.deployWebApp(A, app, volume);
        Migration there = migrate(AppRef.container(app));
        Files.writeString(nodes.mountpoint(B, volume).resolve("index.html"), "version 2");

        Migration back = orchestrator.create(app, B.value(), A.value());
        back = advanceUntil(back, Migration::isTerminal);

        assertThat(back.state()).as("failure: %s", back.failure()).isEqualTo(MigrationState.DONE);
        assertThat(Files.readString(nodes.mountpoint(A, volume).resolve("index.html"))).isEqualTo("version 2");
        TestNodes.assertServes(port, "/index.html", "version 2");
        assertThat(nodes.docker(A, "ps", "-a", "--format", "{{.Names}}").lines().toList())
                .contains(app).doesNotContain(app + ".migrated-" + there.id().shortId());
        assertThat(nodes.docker(B, "ps", "-a", "--format", "{{.Names}}").lines().toList())
                .contains(app + ".migrated-" + back.id().shortId());
    }

    @Test
    @DisplayName("a foreign volume of the same name on the target fails the restore and is left untouched")
    void refusesToOverwriteAForeignVolume() throws Exception {
        String app = unique("clash");
        String volume = app + "-data";
        nodes.docker(A, "volume", "create", volume);
        Files.writeString(nodes.mountpoint(A, volume).resolve("index.html"), "mine");
        nodes.deployWebApp(A, app, volume);
        nodes.docker(B, "volume", "create", volume);
        Files.writeString(nodes.mountpoint(B, volume).resolve("precious"), "theirs");
        NodeInventory sourceBefore = TestNodes.owned(nodes.a.inventory(), app);
        NodeInventory targetBefore = TestNodes.owned(nodes.b.inventory(), app);

        Migration m = advanceUntil(orchestrator.create(app, A.value(), B.value()), Migration::isTerminal);

        assertThat(m.state()).isEqualTo(MigrationState.FAILED);
        assertThat(m.failure().orElseThrow().reason()).contains("volume named '" + volume + "' already exists");
        assertThat(TestNodes.owned(nodes.b.inventory(), app, m.id().value())).isEqualTo(targetBefore);
        assertThat(TestNodes.owned(nodes.a.inventory(), app, m.id().value())).isEqualTo(sourceBefore);
    }

    @Test
    @DisplayName("preflight reports a bind mount as not migratable and the app's port as a fact")
    void preflightReportsBindMountsAndPort() throws Exception {
        String app = unique("bind");
        Path host = Files.createTempDirectory("fleet-bind");
        nodes.removeLater("container", app);
        nodes.docker(A, "run", "-d", "--name", app, "--network", "none", "--label", "fleet.port=8123",
                "-v", host + ":/srv", nodes.image, "sleep", "600");
        var report = nodes.a.preflight(new dev.fleet.migration.core.spi.PreflightRequest(
                dev.fleet.migration.core.MigrationId.of("m-" + app), 1, AppRef.container(app),
                dev.fleet.migration.core.spi.Role.SOURCE, A, B, 0));
        assertThat(report.problems()).anySatisfy(p -> assertThat(p).contains("bind mount").contains(host.toString()));
        assertThat(report.facts()).containsEntry(Orchestrator.FACT_APP_PORT, "8123");
        Files.delete(host);
    }

    @ParameterizedTest(name = "abort in {0}")
    @ValueSource(strings = {"PENDING", "SNAPSHOTTING", "TRANSFERRING", "RESTORING", "CUTOVER-stopped",
            "CUTOVER-started", "CUTOVER-retired"})
    @DisplayName("abort in each state leaves both inventories as they were before")
    void abortRestoresBothInventories(String when) throws Exception {
        String app = unique("abort");
        String volume = app + "-data";
        nodes.docker(A, "volume", "create", volume);
        TestTrees.smallFiles(nodes.mountpoint(A, volume), 200);
        Files.writeString(nodes.mountpoint(A, volume).resolve("index.html"), "abort " + app);
        int port = nodes.deployWebApp(A, app, volume);
        NodeInventory sourceBefore = TestNodes.owned(nodes.a.inventory(), app);
        NodeInventory targetBefore = TestNodes.owned(nodes.b.inventory(), app);

        Migration m = orchestrator.create(app, A.value(), B.value());
        Predicate<Migration> at = switch (when) {
            case "PENDING" -> x -> true;
            case "CUTOVER-stopped" -> x -> x.finished(OperationKind.STOP_SOURCE);
            case "CUTOVER-started" -> x -> x.finished(OperationKind.START_TARGET);
            case "CUTOVER-retired" -> x -> x.finished(OperationKind.RETIRE_SOURCE) || x.state() == MigrationState.DONE;
            default -> x -> x.state() == MigrationState.valueOf(when);
        };
        m = advanceUntil(m, at);
        if (m.state() != MigrationState.DONE) {
            m = orchestrator.fail(m.id(), "test abort in " + when);
            assertThat(m.state()).isEqualTo(MigrationState.FAILED);
            assertThat(TestNodes.owned(nodes.a.inventory(), app, m.id().value())).isEqualTo(sourceBefore);
            assertThat(TestNodes.owned(nodes.b.inventory(), app, m.id().value())).isEqualTo(targetBefore);
            TestNodes.assertServes(port, "/index.html", "abort " + app);
        } else {
            // RETIRE_SOURCE is the last step: the migration is DONE and cannot be aborted any more
            assertThat(when).isEqualTo("CUTOVER-retired");
        }
        if (m.state() == MigrationState.FAILED) {
            String prefix = m.id().value();
            try (var files = Files.list(nodes.archiveB)) {
                assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).toList())
                        .as("files of the aborted migration left on the target").isEmpty();
            }
            try (var files = Files.list(nodes.archiveA)) {
                List<String> kept = files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted()
                        .toList();
                List<String> finished = List.of(prefix + ".fence", prefix + ".tar");
                if (m.archive().isPresent()) {
                    assertThat(kept).as("the source keeps the finished archive and its fence for a replay").isEqualTo(finished);
                } else { // the snapshot may have finished on the node just before the abort reached it
                    assertThat(kept).as("nothing partial is left on the source").isIn(List.of(), finished);
                }
            }
        }
    }

    @Test
    @DisplayName("a hostile archive on the target is refused by RESTORE and changes nothing")
    void restoreRefusesHostileArchive() throws Exception {
        String app = unique("evil");
        dev.fleet.migration.core.MigrationId id = dev.fleet.migration.core.MigrationId.of("m-" + app);
        NodeInventory targetBefore = TestNodes.owned(nodes.b.inventory(), app, id.value());
        Path archive = nodes.archiveB.resolve(id.value() + ".tar");
        byte[] volumeTar = HostileTar.traversal(app);
        Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, Manifest.KIND_SNAPSHOT, id.value(), app, List.of(),
                List.of(new Manifest.VolumeSpec(app + "-data", "local", Map.of())));
        dev.fleet.migration.core.ArchiveInfo info;
        try (var w = new dev.fleet.migration.docker.archive.ArchiveWriter(archive, manifest)) {
            w.add(Manifest.entryFor(app + "-data"), out -> out.write(volumeTar));
            info = w.finish();
        }
        var key = new dev.fleet.migration.core.spi.OperationKey(id, OperationKind.RESTORE, 1);
        var status = nodes.b.submit(new dev.fleet.migration.core.spi.OperationRequest(key, AppRef.container(app), A, B,
                java.util.Optional.of(info), Duration.ofMinutes(1)));
        while (status.phase() == dev.fleet.migration.core.spi.OperationStatus.Phase.RUNNING) {
            Thread.sleep(50);
            status = nodes.b.status(key).orElseThrow();
        }
        assertThat(status.phase()).isEqualTo(dev.fleet.migration.core.spi.OperationStatus.Phase.FAILED);
        assertThat(status.error().orElseThrow()).contains("refused").contains("'..'");
        assertThat(nodes.archiveB.resolveSibling("pwned-" + app)).doesNotExist();
        // three levels above the volume's staged root (staging/volumes/<volume>/) is the engine's data root
        assertThat(nodes.stagingRoot(B).resolveSibling("pwned-" + app)).doesNotExist();
        assertThat(nodes.archiveB.resolve(id.value() + ".staging")).doesNotExist();
        assertThat(nodes.stagingRoot(B).resolve(id.value() + ".staging")).doesNotExist();
        assertThat(TestNodes.owned(nodes.b.inventory(), app, id.value())).isEqualTo(targetBefore);
        Files.delete(archive);
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {
        "{\"Privileged\":true}",
        "{\"CapAdd\":[\"SYS_ADMIN\"]}",
        "{\"Binds\":[\"/:/host\"]}",
        "{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/etc\",\"Target\":\"/host-etc\"}]}",
        "{\"PidMode\":\"host\"}",
        "{\"Devices\":[{\"PathOnHost\":\"/dev/mem\",\"PathInContainer\":\"/dev/mem\",\"CgroupPermissions\":\"rwm\"}]}",
        "{\"SecurityOpt\":[\"seccomp=unconfined\"]}",
        "{\"NetworkMode\":\"container:other\"}"})
    @DisplayName("an archive whose container asks for host privileges is refused by RESTORE before anything is created")
    void restoreRefusesHostPrivileges(String hostConfig) throws Exception {
        String app = unique("priv");
        dev.fleet.migration.core.MigrationId id = dev.fleet.migration.core.MigrationId.of("m-" + app);
        NodeInventory targetBefore = TestNodes.owned(nodes.b.inventory(), app, id.value());
        Path archive = nodes.archiveB.resolve(id.value() + ".tar");
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var inspect = json.createObjectNode();
        inspect.put("Name", "/" + app);
        inspect.putObject("Config").put("Image", "busybox");
        inspect.set("HostConfig", json.readTree(hostConfig));
        Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, Manifest.KIND_SNAPSHOT, id.value(), app,
                List.of(new Manifest.ContainerSpec(app, "fleet-migration/" + app + ":" + id.value(), inspect)), List.of());
        dev.fleet.migration.core.ArchiveInfo info;
        try (var w = new dev.fleet.migration.docker.archive.ArchiveWriter(archive, manifest)) {
            info = w.finish();
        }
        var key = new dev.fleet.migration.core.spi.OperationKey(id, OperationKind.RESTORE, 1);
        var status = nodes.b.submit(new dev.fleet.migration.core.spi.OperationRequest(key, AppRef.container(app), A, B,
                java.util.Optional.of(info), Duration.ofMinutes(1)));
        while (status.phase() == dev.fleet.migration.core.spi.OperationStatus.Phase.RUNNING) {
            Thread.sleep(50);
            status = nodes.b.status(key).orElseThrow();
        }
        assertThat(status.phase()).isEqualTo(dev.fleet.migration.core.spi.OperationStatus.Phase.FAILED);
        assertThat(status.error().orElseThrow()).contains("asks for more than a migrated container may have");
        assertThat(nodes.archiveB.resolve(id.value() + ".staging")).doesNotExist();
        assertThat(nodes.stagingRoot(B).resolve(id.value() + ".staging")).doesNotExist();
        assertThat(TestNodes.owned(nodes.b.inventory(), app, id.value())).isEqualTo(targetBefore);
        Files.delete(archive);
    }

    /** A volume tar whose second entry climbs out of the volume. */
    static final class HostileTar {
        static byte[] traversal(String app) throws Exception {
            var bytes = new java.io.ByteArrayOutputStream();
            try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(bytes)) {
                for (String name : List.of("ok.txt", "../../../pwned-" + app)) {
                    var e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(name, true);
                    e.setSize(2);
                    tar.putArchiveEntry(e);
                    tar.write("x\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    tar.closeArchiveEntry();
                }
            }
            return bytes.toByteArray();
        }
    }
}
