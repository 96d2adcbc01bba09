package dev.fleet.migration.http.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.http.TestHttp;
import dev.fleet.migration.http.Wiring;
import dev.fleet.migration.http.agent.AgentServer;
import dev.fleet.migration.http.config.FleetConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 9, "disk full on the source's archive dir": node a's archive directory is on a small
 * ext4 filesystem mounted with -o loop ({@code scripts/ci/services/smallfs.sh}, 48 MiB,
 * {@code FLEET_TEST_SMALLFS_DIR}), and the app's volume holds more than fits there. The
 * control plane ({@code fleet serve}, its own process) and both agents (in this JVM, real Docker
 * engines) run the migration: it must end FAILED in snapshotting with a reason that names the
 * full disk, no partial archive may be left in the archive dir, and the source must be exactly as
 * before and still serving; node b holds nothing of the app.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SourceDiskFullIT {
    private final String dockerA = ResilienceFleet.env("FLEET_TEST_DOCKER_A");
    private final String dockerB = ResilienceFleet.env("FLEET_TEST_DOCKER_B");
    private final String image = ResilienceFleet.env("FLEET_TEST_IMAGE");
    private final Path smallFs = Path.of(ResilienceFleet.env("FLEET_TEST_SMALLFS_DIR"));
    private Path dir;
    private Path archiveA;
    private final List<AgentServer> servers = new ArrayList<>();
    private final List<NodeAgent> agents = new ArrayList<>();
    private ControlPlaneProcess cp;
    private String app;

    @BeforeAll
    void start() throws IOException {
        assertThat(smallFs).as("FLEET_TEST_SMALLFS_DIR").isDirectory();
        dir = Files.createTempDirectory("fleet-diskfull-");
        archiveA = Files.createDirectories(smallFs.resolve(dir.getFileName().toString()));
        Files.createDirectories(dir.resolve("archive-b"));
        int portA = ResilienceFleet.freePort();
        int portB = ResilienceFleet.freePort();
        int portCp = ResilienceFleet.freePort();
        Path config = dir.resolve("fleet.yaml");
        Files.writeString(config, """
                controlPlane: {listen: "127.0.0.1:%d"}
                store: {path: %s}
                tokens: {operator: %s, agent: %s}
                scheduler: {interval: 200ms, maxActivePerNode: 50}
                transport: {default: shared-dir}
                nodes:
                  - {id: a, agentUrl: "http://127.0.0.1:%d", docker: "%s", archiveDir: "%s", upstreamHost: 127.0.0.1, checkHostPorts: false}
                  - {id: b, agentUrl: "http://127.0.0.1:%d", docker: "%s", archiveDir: "%s", upstreamHost: 127.0.0.2, checkHostPorts: false}
                """.formatted(portCp, dir.resolve("store.db"), ResilienceFleet.OPERATOR, ResilienceFleet.AGENT, portA,
                dockerA, archiveA, portB, dockerB, dir.resolve("archive-b")));
        FleetConfig cfg = FleetConfig.load(config);
        int[] ports = {portA, portB};
        for (int i = 0; i < 2; i++) {
            NodeAgent agent = Wiring.dockerAgents().create(cfg.nodes().get(i), cfg);
            agents.add(agent);
            servers.add(AgentServer.builder(agent).listen("127.0.0.1", ports[i]).token(ResilienceFleet.AGENT)
                    .operatorToken(ResilienceFleet.OPERATOR).build().start());
        }
        Path jar = Files.copy(ResilienceFleet.fleetJar(), dir.resolve("fleet-all.jar"));
        cp = ControlPlaneProcess.start(jar, config, portCp, Map.of(), dir.resolve("cp.log"));
    }

    @AfterAll
    void stop() throws Exception {
        if (cp != null) {
            cp.kill();
        }
        for (AgentServer s : servers) {
            s.close();
        }
        for (NodeAgent a : agents) {
            if (a instanceof AutoCloseable c) {
                c.close();
            }
        }
        if (app != null) {
            Docker.removeApp(dockerA, app);
            Docker.removeApp(dockerB, app);
        }
        for (Path root : new Path[] {dir, archiveA}) {
            if (root == null) {
                continue;
            }
            try (Stream<Path> all = Files.walk(root)) {
                for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Test
    @DisplayName("the source's archive dir fills up: FAILED in snapshotting naming the full disk, nothing left, source untouched")
    void sourceArchiveDirFull() throws Exception {
        long t0 = System.nanoTime();
        long capacity = Files.getFileStore(smallFs).getTotalSpace();
        app = "diskfull-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);
        int port = ResilienceFleet.freePort();
        Docker.run(dockerA, "run", "-d", "--init", "--name", app, "--network", "host", "--restart", "unless-stopped",
                "--label", "fleet.port=" + port, "-v", app + "-data:/data", image, "httpd",
                "-f", "-p", String.valueOf(port), "-h", "/data");
        Path mp = Path.of(Docker.run(dockerA, "volume", "inspect", "--format", "{{.Mountpoint}}", app + "-data"));
        Files.writeString(mp.resolve("index.html"), "served by " + app + "\n");
        // random bytes (they do not compress), 16 MiB more than the whole small filesystem
        long mib = capacity / (1 << 20) + 16;
        byte[] blob = new byte[1 << 20];
        try (var out = Files.newOutputStream(mp.resolve("blob.bin"))) {
            for (long i = 0; i < mib; i++) {
                ThreadLocalRandom.current().nextBytes(blob);
                out.write(blob);
            }
        }
        TreeMap<String, String> beforeA = Docker.view(dockerA, app);
        long freeBefore = Files.getFileStore(smallFs).getUsableSpace();

        String id = TestHttp.send("POST", cp.url() + "/api/migrations", ResilienceFleet.OPERATOR,
                "{\"app\":\"" + app + "\",\"source\":\"a\",\"target\":\"b\"}").json().get("id").asText();
        JsonNode end = ResilienceFleet.awaitEnd(cp.url(), id, Duration.ofSeconds(90));

        assertThat(end.get("state").asText()).as("the migration: " + end).isEqualToIgnoringCase("FAILED");
        JsonNode failure = end.get("failure");
        assertThat(failure.get("failedIn").asText()).as("failed in: " + end).isEqualToIgnoringCase("SNAPSHOTTING");
        assertThat(failure.get("reason").asText()).as("the reason").containsAnyOf("No space left", "disk full",
                "not enough space", "no space");
        // no partial archive (nor temp file, delta or fence) of the migration in the archive dir
        try (Stream<Path> files = Files.list(archiveA)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> !n.equals("journal.jsonl")))
                    .as("files left in node a's archive dir").isEmpty();
        }
        assertThat(Files.getFileStore(smallFs).getUsableSpace()).as("free space on the small filesystem")
                .isGreaterThanOrEqualTo(freeBefore - (1 << 20));
        // the source is untouched and serves; the target holds nothing of the app
        assertThat(Docker.view(dockerA, app)).as("node a as before").isEqualTo(beforeA);
        assertThat(Docker.running(dockerA, app)).containsExactly(app);
        assertThat(Docker.view(dockerB, app)).as("node b").isEmpty();
        assertThat(ResilienceFleet.httpGet(port)).contains("served by " + app);
        System.out.printf("disk full on the source's archive dir (%d MiB fs, %d MiB volume): %s in %s: %s (%d ms)%n",
                capacity >> 20, mib, end.get("state").asText(), failure.get("failedIn").asText(),
                failure.get("reason").asText(), (System.nanoTime() - t0) / 1_000_000);
    }
}
