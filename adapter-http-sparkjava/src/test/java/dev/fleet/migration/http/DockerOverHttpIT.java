package dev.fleet.migration.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.http.agent.AgentServer;
import dev.fleet.migration.http.config.FleetConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 6's end-to-end proof in one JVM: a control plane and two agents over HTTP, the agents
 * serving real {@code DockerNodeAgent}s (built by {@link Wiring} from the config, as
 * {@code fleet agent} builds them) against the two Docker engines scripts/test.sh starts. Only
 * the public HTTP API drives the migrations: once with the scheduler on, once with
 * {@code advance} step by step.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerOverHttpIT {
    private static final String OPERATOR = "operator-token-for-the-docker-it";
    private static final String AGENT = "agent-token-for-the-docker-it-0";

    private final String dockerA = env("FLEET_TEST_DOCKER_A");
    private final String dockerB = env("FLEET_TEST_DOCKER_B");
    private final String image = env("FLEET_TEST_IMAGE");
    private Path dir;
    private final List<AgentServer> servers = new ArrayList<>();
    private final List<NodeAgent> agents = new ArrayList<>();
    private final List<String> apps = new ArrayList<>();
    private String nodesYaml;

    private static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new AssertionError("environment variable " + name + " is not set: run the integration tests "
                    + "through scripts/test.sh (it starts two Docker engines with scripts/ci/services/docker.sh)");
        }
        return v;
    }

    private String nodes(String urlA, String urlB) {
        return """
                transport: {default: shared-dir}
                nodes:
                  - {id: a, agentUrl: "%s", docker: "%s", archiveDir: "%s", upstreamHost: 127.0.0.1, checkHostPorts: false}
                  - {id: b, agentUrl: "%s", docker: "%s", archiveDir: "%s", upstreamHost: 127.0.0.2, checkHostPorts: false}
                """.formatted(urlA, dockerA, env("FLEET_TEST_ARCHIVE_A"), urlB, dockerB, env("FLEET_TEST_ARCHIVE_B"));
    }

    private String head(String db, String interval) {
        return """
                controlPlane: {listen: "127.0.0.1:0"}
                store: {path: %s}
                tokens: {operator: %s, agent: %s}
                scheduler: {interval: %s}
                """.formatted(dir.resolve(db), OPERATOR, AGENT, interval);
    }

    @BeforeAll
    void startAgents() throws Exception {
        dir = Files.createTempDirectory("fleet-docker-http-");
        // the agents are built from the nodes' config, as `fleet agent` does; their URLs are known once they listen
        Path draft = dir.resolve("draft.yaml");
        Files.writeString(draft, head("draft.db", "0s") + nodes("http://127.0.0.1:1", "http://127.0.0.1:2"));
        FleetConfig cfg = FleetConfig.load(draft);
        for (FleetConfig.Node n : cfg.nodes()) {
            NodeAgent agent = Wiring.dockerAgents().create(n, cfg);
            agents.add(agent);
            servers.add(AgentServer.builder(agent).listen("127.0.0.1", 0).token(AGENT).operatorToken(OPERATOR)
                    .build().start());
        }
        nodesYaml = nodes(servers.get(0).url(), servers.get(1).url());
    }

    @AfterAll
    void stopAgents() throws Exception {
        for (AgentServer s : servers) {
            s.close();
        }
        for (NodeAgent a : agents) {
            if (a instanceof AutoCloseable c) {
                c.close();
            }
        }
        for (String app : apps) {
            for (String host : List.of(dockerA, dockerB)) {
                for (String n : dockerQuietly(host, "ps", "-a", "--format", "{{.Names}}").split("\n")) {
                    if (n.equals(app) || n.startsWith(app + ".migrated-")) {
                        dockerQuietly(host, "rm", "-f", n);
                    }
                }
                dockerQuietly(host, "volume", "rm", "-f", app + "-data");
            }
        }
    }

    /** A running web server on node a whose volume holds a page naming the app; returns its port. */
    private int deploy(String app) throws Exception {
        apps.add(app);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        docker(dockerA, "volume", "create", app + "-data");
        docker(dockerA, "run", "--rm", "-v", app + "-data:/data", image, "sh", "-c",
                "echo 'served by " + app + "' > /data/index.html");
        docker(dockerA, "run", "-d", "--init", "--name", app, "--network", "host", "--label", "fleet.port=" + port,
                "-v", app + "-data:/data", image, "httpd", "-f", "-p", String.valueOf(port), "-h", "/data");
        return port;
    }

    private List<String> statesOf(ControlPlane cp, String id) {
        List<String> states = new ArrayList<>();
        TestHttp.send("GET", cp.url() + "/api/migrations/" + id + "/history", OPERATOR, null).json().forEach(v -> {
            String s = v.get("state").asText();
            if (states.isEmpty() || !states.get(states.size() - 1).equals(s)) {
                states.add(s);
            }
        });
        return states;
    }

    @Test
    @DisplayName("with the scheduler on, POST /api/migrations moves a container and its volume to node b")
    void schedulerMovesTheAppOverHttp() throws Exception {
        String app = "http-auto-" + suffix();
        int port = deploy(app);
        Path config = dir.resolve("auto.yaml");
        Files.writeString(config, head("auto.db", "200ms") + nodesYaml);
        try (ControlPlane cp = ControlPlane.fromConfig(FleetConfig.load(config)).start()) {
            String id = TestHttp.send("POST", cp.url() + "/api/migrations", OPERATOR,
                    "{\"app\":\"" + app + "\",\"source\":\"a\",\"target\":\"b\"}").json().get("id").asText();
            JsonNode m = null;
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (System.nanoTime() < deadline) {
                m = TestHttp.send("GET", cp.url() + "/api/migrations/" + id, OPERATOR, null).json();
                if (!m.get("active").asBoolean()) {
                    break;
                }
                TimeUnit.MILLISECONDS.sleep(200);
            }
            assertThat(m.get("state").asText()).as(m.toString()).isEqualTo("done");
            assertThat(statesOf(cp, id))
                    .containsExactly("pending", "snapshotting", "transferring", "restoring", "cutover", "done");
        }
        assertThat(docker(dockerB, "inspect", "--format", "{{.State.Running}}", app)).isEqualTo("true");
        assertThat(httpGet(port)).isEqualTo("served by " + app + "\n");
    }

    @Test
    @DisplayName("with the scheduler off, POST .../advance moves it one state at a time to done")
    void advanceMovesTheAppStepByStep() throws Exception {
        String app = "http-step-" + suffix();
        int port = deploy(app);
        Path config = dir.resolve("step.yaml");
        Files.writeString(config, head("step.db", "0s") + nodesYaml);
        try (ControlPlane cp = ControlPlane.fromConfig(FleetConfig.load(config)).start()) {
            String id = TestHttp.send("POST", cp.url() + "/api/migrations", OPERATOR,
                    "{\"app\":\"" + app + "\",\"source\":\"a\",\"target\":\"b\"}").json().get("id").asText();
            List<String> seen = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            String state = "pending";
            while (!state.equals("done") && !state.equals("failed") && System.nanoTime() < deadline) {
                JsonNode m = TestHttp.send("POST", cp.url() + "/api/migrations/" + id + "/advance", OPERATOR, null)
                        .json();
                state = m.get("state").asText();
                if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(state)) {
                    seen.add(state);
                }
                TimeUnit.MILLISECONDS.sleep(100);
            }
            assertThat(seen).containsExactly("snapshotting", "transferring", "restoring", "cutover", "done");
            assertThat(TestHttp.send("POST", cp.url() + "/api/migrations/" + id + "/advance", OPERATOR, null).status())
                    .as("advancing a done migration is a conflict").isEqualTo(409);
        }
        assertThat(docker(dockerB, "inspect", "--format", "{{.State.Running}}", app)).isEqualTo("true");
        assertThat(httpGet(port)).isEqualTo("served by " + app + "\n");
    }

    private static String suffix() {
        return Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);
    }

    private static String httpGet(int port) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                var c = (java.net.HttpURLConnection) java.net.URI.create("http://127.0.0.1:" + port + "/index.html")
                        .toURL().openConnection();
                c.setConnectTimeout(1000);
                c.setReadTimeout(2000);
                try (var in = c.getInputStream()) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            } catch (IOException e) {
                if (System.nanoTime() > until) {
                    throw e;
                }
                TimeUnit.MILLISECONDS.sleep(100);
            }
        }
    }

    private static String docker(String host, String... args) {
        List<String> cmd = new ArrayList<>(List.of("docker", "-H", host));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("could not run " + cmd + ": " + e, e);
        }
    }

    private static String dockerQuietly(String host, String... args) {
        try {
            return docker(host, args);
        } catch (AssertionError e) {
            return "";
        }
    }
}
