package dev.fleet.migration.http.security;

import static dev.fleet.migration.http.TestFleets.AGENT;
import static dev.fleet.migration.http.TestFleets.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.spi.NodeInventory;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.docker.DockerEndpoint;
import dev.fleet.migration.docker.DockerNodeAgent;
import dev.fleet.migration.docker.archive.Manifest;
import dev.fleet.migration.http.agent.AgentServer;
import dev.fleet.migration.http.security.HostileNames.Name;
import dev.fleet.migration.http.wire.AgentWire;
import dev.fleet.migration.http.wire.Json;
import dev.fleet.migration.transport.SharedDirectoryTransport;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 9, "Bad names", for volume names: they reach a node only inside an archive's manifest,
 * so each hostile volume name (and a sample of hostile container names) is written into an
 * otherwise well-formed archive, and a restore of it is asked for through the agent's HTTP API
 * of a real {@link DockerNodeAgent} on the second Docker engine that scripts/test.sh starts.
 * Each restore ends FAILED with a reason naming {@code manifest.volume} (or
 * {@code manifest.container}), before the engine is asked to create anything: no volume or
 * container of these migrations exists afterwards, the staging directory is gone, and no
 * process was started.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("hostile volume and container names inside archives, restored through a real Docker agent")
class AgentVolumeNamesIT {
    private final String run = "m-vn-" + UUID.randomUUID().toString().substring(0, 8);
    private Path dir;
    private DockerNodeAgent docker;
    private AgentServer server;
    private ProcessWatch processes;

    private static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new AssertionError("environment variable " + name + " is not set: run the integration tests "
                    + "through scripts/test.sh (it starts two Docker engines with scripts/ci/services/docker.sh)");
        }
        return v;
    }

    @BeforeAll
    void start() throws Exception {
        // the agent fsyncs its journal twice per operation: on tmpfs that costs nothing, and nothing here
        // depends on the archive directory's disk
        Path shm = Path.of("/dev/shm");
        dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "fleet-volume-names-")
                : Files.createTempDirectory("fleet-volume-names-");
        docker = DockerNodeAgent.builder().node(NodeId.of("b")).docker(DockerEndpoint.unix(env("FLEET_TEST_DOCKER_B")))
                .transport(SharedDirectoryTransport.builder().build()).archiveDirectory(dir).probeHostPorts(false)
                .build();
        server = AgentServer.builder(docker).listen("127.0.0.1", 0).token(AGENT).operatorToken(OPERATOR).build().start();
        processes = ProcessWatch.open();
        submitAll();
    }

    @AfterAll
    void stop() throws IOException {
        try {
            try (Stream<Path> s = Files.list(dir)) {
                assertThat(s.map(p -> p.getFileName().toString()).filter(f -> !f.endsWith(".tar")
                        && !f.startsWith("journal"))).as("no other file is left in the archive directory").isEmpty();
            }
            NodeInventory after = docker.inventory();
            assertThat(after.volumes().stream().filter(v -> v.labels().values().stream().anyMatch(l -> l.startsWith(run))))
                    .as("no volume of these migrations exists on the engine").isEmpty();
            assertThat(after.containers().stream().filter(c -> c.labels().values().stream()
                    .anyMatch(l -> l.startsWith(run)))).as("no container of these migrations exists").isEmpty();
        } finally {
            processes.close();
            server.close();
            docker.close();
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // a temp directory left behind is harmless
            }
        }
    }

    /** One archive: the hostile name, the migration that restores it, and the agent's first answer. */
    record Case(String what, Name name, MigrationId migration, RawHttp.Reply submitted) {}

    private final List<Case> cases = new ArrayList<>();

    /**
     * Every archive is written and its restore submitted first, so the agent's workers refuse
     * them side by side; each test then follows its own operation to its end.
     */
    private void submitAll() throws Exception {
        List<String[]> todo = new ArrayList<>();
        List<Name> names = new ArrayList<>();
        for (Name n : HostileNames.volumeNames()) {
            todo.add(new String[] {"volume"});
            names.add(n);
        }
        int i = 0;
        for (Name n : HostileNames.around("web")) {
            if (i++ % 8 == 0) { // a sample: container names pass the same check as volume names
                todo.add(new String[] {"container"});
                names.add(n);
            }
        }
        for (int k = 0; k < todo.size(); k++) {
            String what = todo.get(k)[0];
            MigrationId m = MigrationId.of(run + "-" + (k + 1));
            Path file = dir.resolve(m.value() + ".tar");
            writeArchive(file, m, what, names.get(k).value());
            ArchiveInfo archive = new ArchiveInfo("/var/lib/fleet/migrations/" + file.getFileName(), Files.size(file),
                    sha256(file));
            OperationRequest restore = new OperationRequest(new OperationKey(m, OperationKind.RESTORE, 1),
                    AppRef.container("web"), NodeId.of("a"), NodeId.of("b"), Optional.of(archive),
                    Duration.ofMinutes(1));
            RawHttp.Reply r = RawHttp.send(server.port(), "POST", AgentServer.PREFIX + "/migration/restore",
                    Json.write(AgentWire.request(restore)), "Authorization: Bearer " + AGENT);
            cases.add(new Case(what, names.get(k), m, r));
        }
    }

    Stream<Arguments> archives() {
        return cases.stream().map(c -> Arguments.of(c.what(), c.name(), c));
    }

    @ParameterizedTest(name = "restore an archive declaring the {0} {1}")
    @MethodSource("archives")
    @DisplayName("a hostile name in the manifest fails the restore naming the field, and the engine creates nothing")
    void hostileManifestNameFailsTheRestore(String what, Name name, Case c) throws Exception {
        MigrationId m = c.migration();
        assertThat(c.submitted().status()).as(c.submitted().body()).isIn(200, 202);
        JsonNode status = c.submitted().json();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (status.path("phase").asText().equals("running") && System.nanoTime() < deadline) {
            Thread.sleep(10); // the agent runs the restore on a worker: poll its status, as the control plane does
            status = RawHttp.send(server.port(), "GET", AgentServer.PREFIX + "/operations/" + m + "/restore?epoch=1",
                    null, "Authorization: Bearer " + AGENT).json();
        }

        assertThat(status.path("phase").asText()).as(status.toString()).isEqualTo("failed");
        assertThat(status.path("error").asText()).as("the reason names the field").contains("manifest." + what + " ")
                .contains("refused the archive");
        assertThat(status.path("error").asText()).as("the value is quoted escaped").matches("[\\x20-\\x7e]+");
        assertThat(dir.resolve(m.value() + ".staging")).as("nothing of the archive was left in staging").doesNotExist();
        assertThat(docker.stagingDirectory().resolve(m.value() + ".staging"))
                .as("nothing of the archive was left in staging under the engine's data root").doesNotExist();
        assertThat(processes.spawned()).as("no external process was started").isEmpty();
    }

    /** A complete, well-formed archive but for the one hostile name, its entry listed as the manifest says. */
    private static void writeArchive(Path file, MigrationId m, String what, String hostile) throws IOException {
        ObjectNode manifest = Json.object();
        manifest.put("formatVersion", Manifest.FORMAT_VERSION).put("kind", "snapshot").put("migration", m.value())
                .put("app", "web").put("chunkSize", 512);
        ArrayNode containers = manifest.putArray("containers");
        ArrayNode volumes = manifest.putArray("volumes");
        ArrayNode entries = manifest.putArray("entries");
        if (what.equals("volume")) {
            volumes.addObject().put("name", hostile).put("driver", "local").putObject("labels");
            entries.addObject().put("name", "volumes/" + hostile + ".tar").put("size", 1024).put("sha256", "0".repeat(64));
        } else {
            ObjectNode c = containers.addObject().put("name", hostile).put("image", "fleet-test/busybox:1");
            c.putObject("inspect").putObject("Config").put("Image", "fleet-test/busybox:1");
            entries.addObject().put("name", "rootfs/" + hostile + ".tar").put("size", 1024).put("sha256", "0".repeat(64));
        }
        byte[] json = Json.write(manifest).getBytes(StandardCharsets.UTF_8);
        try (OutputStream out = Files.newOutputStream(file);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name())) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            TarArchiveEntry e = new TarArchiveEntry("manifest.json");
            e.setSize(json.length);
            tar.putArchiveEntry(e);
            tar.write(json);
            tar.closeArchiveEntry();
        }
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
