package dev.fleet.migration.http;

import static dev.fleet.migration.http.TestFleets.AGENT;
import static dev.fleet.migration.http.TestFleets.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.http.agent.AgentServer;
import dev.fleet.migration.http.agent.HttpNodeAgent;
import dev.fleet.migration.http.config.FleetConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The composition root from a config file: a SQLite store, one HttpNodeAgent per node talking to
 * AgentServers (FakeFleet nodes) on loopback ports, the scheduler; driven only through the
 * public API.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ControlPlaneOverHttpTest {
    private Path dir;
    private FakeFleet fleet;
    private AgentServer a;
    private AgentServer b;
    private Path config;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("fleet-cp-");
        fleet = new FakeFleet(Clock.systemUTC(), 21).durations(Duration.ofMillis(300));
        a = AgentServer.builder(fleet.node("a")).listen("127.0.0.1", 0).token(AGENT).operatorToken(OPERATOR)
                .build().start();
        b = AgentServer.builder(fleet.node("b")).listen("127.0.0.1", 0).token(AGENT).operatorToken(OPERATOR)
                .build().start();
        config = dir.resolve("fleet.yaml");
        Files.writeString(config, """
                controlPlane: {listen: "127.0.0.1:0"}
                store: {path: %s}
                tokens: {operator: %s, agent: %s}
                scheduler: {interval: %s}
                nodes:
                  - {id: a, agentUrl: "%s"}
                  - {id: b, agentUrl: "%s"}
                """.formatted(dir.resolve("cp.db"), OPERATOR, AGENT, "100ms", a.url(), b.url()));
        for (String app : List.of("auto", "manual")) {
            fleet.deploy("a", AppRef.container(app), 8080);
        }
    }

    @AfterAll
    void stop() throws java.io.IOException {
        a.close();
        b.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    @Test
    @DisplayName("with the scheduler on, a created migration runs through all six states to done over HTTP")
    void schedulerRunsMigrationToDone() {
        try (ControlPlane cp = ControlPlane.fromConfig(FleetConfig.load(config)).start()) {
            assertThat(cp.orchestrator().nodes()).hasSize(2);
            String id = TestHttp.send("POST", cp.url() + "/api/migrations", OPERATOR,
                    "{\"app\":\"auto\",\"source\":\"a\",\"target\":\"b\"}").json().get("id").asText();
            JsonNode m = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                m = TestHttp.send("GET", cp.url() + "/api/migrations/" + id, OPERATOR, null).json();
                if (!m.get("active").asBoolean()) {
                    break;
                }
                pause();
            }
            assertThat(m.get("state").asText()).as(m.toString()).isEqualTo("done");
            List<String> states = new ArrayList<>();
            TestHttp.send("GET", cp.url() + "/api/migrations/" + id + "/history", OPERATOR, null).json()
                    .forEach(v -> {
                        String s = v.get("state").asText();
                        if (states.isEmpty() || !states.get(states.size() - 1).equals(s)) {
                            states.add(s);
                        }
                    });
            assertThat(states).containsExactly("pending", "snapshotting", "transferring", "restoring", "cutover", "done");
            assertThat(fleet.runningOn(AppRef.container("auto"))).containsExactly("b");
            assertThat(fleet.workStarts().values()).containsOnly(1);
        }
    }

    @Test
    @DisplayName("with the scheduler off, advance moves it step by step; the SQLite store keeps it across restarts")
    void advanceStepByStepAndSurviveRestart() throws Exception {
        String text = Files.readString(config).replace("interval: 100ms", "interval: 0s");
        Path manual = dir.resolve("manual.yaml");
        Files.writeString(manual, text.replace("cp.db", "cp-manual.db"));
        String id;
        try (ControlPlane cp = ControlPlane.fromConfig(FleetConfig.load(manual)).start()) {
            id = TestHttp.send("POST", cp.url() + "/api/migrations", OPERATOR,
                    "{\"app\":\"manual\",\"source\":\"a\",\"target\":\"b\"}").json().get("id").asText();
            TestHttp.send("POST", cp.url() + "/api/migrations/" + id + "/advance", OPERATOR, null);
        }
        try (ControlPlane cp = ControlPlane.fromConfig(FleetConfig.load(manual)).start()) {
            List<String> seen = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            String state = TestHttp.send("GET", cp.url() + "/api/migrations/" + id, OPERATOR, null).json()
                    .get("state").asText();
            seen.add(state);
            while (!state.equals("done") && System.nanoTime() < deadline) {
                state = TestHttp.send("POST", cp.url() + "/api/migrations/" + id + "/advance", OPERATOR, null).json()
                        .get("state").asText();
                if (!seen.get(seen.size() - 1).equals(state)) {
                    seen.add(state);
                }
                pause();
            }
            assertThat(seen).containsExactly("snapshotting", "transferring", "restoring", "cutover", "done");
            assertThat(fleet.runningOn(AppRef.container("manual"))).containsExactly("b");
            JsonNode nodes = TestHttp.send("GET", cp.url() + "/api/nodes", OPERATOR, null).json();
            assertThat(nodes.findValuesAsText("agentUrl")).containsExactly(a.url(), b.url());
        }
    }

    @Test
    @DisplayName("the proxy the config names is wired: Caddy's router (holding requests), nginx's needing its keys")
    void configuredProxyIsWired() throws Exception {
        Path caddy = dir.resolve("caddy.yaml");
        Files.writeString(caddy, Files.readString(config).replace("cp.db", "cp-caddy.db")
                + "proxy: {kind: caddy, adminUrl: \"http://127.0.0.1:2019\", server: fleet, domain: example.test}\n");
        dev.fleet.migration.core.spi.ProxyRouter router = Wiring.router(FleetConfig.load(caddy));
        assertThat(router).isInstanceOf(dev.fleet.migration.proxy.CaddyProxyRouter.class);
        assertThat(router.holdsRequestsUntilUpstreamAnswers()).isTrue();
        try (ControlPlane cp = ControlPlane.fromConfig(FleetConfig.load(caddy)).start()) {
            assertThat(cp.orchestrator().nodes()).hasSize(2);
        }
        Path nginx = dir.resolve("nginx.yaml");
        Files.writeString(nginx, Files.readString(config).replace("cp.db", "cp-nginx.db")
                + "proxy: {kind: nginx}\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FleetConfig.load(nginx))
                .hasMessageContaining("proxy.binary")
                .hasMessageContaining("is required when proxy.kind is nginx");
    }

    @Test
    @DisplayName("the HttpNodeAgent sees a healthy agent through the health route without a token")
    void healthWithoutToken() {
        HttpNodeAgent client = HttpNodeAgent.builder(dev.fleet.migration.core.NodeId.of("a"),
                java.net.URI.create(a.url())).token("irrelevant-but-long-enough").build();
        assertThat(client.healthy()).isTrue();
    }

    /** Stands in for the coming Caddy router: any router that is not the no-op one. */
    private static final class RecordingRouter implements dev.fleet.migration.core.spi.ProxyRouter {
        private final dev.fleet.migration.core.spi.NoopProxyRouter inner = new dev.fleet.migration.core.spi.NoopProxyRouter();

        @Override
        public java.util.Optional<dev.fleet.migration.core.spi.Upstream> current(AppRef app) {
            return inner.current(app);
        }

        @Override
        public void switchTo(AppRef app, java.util.Optional<dev.fleet.migration.core.spi.Upstream> expected,
                             dev.fleet.migration.core.spi.Upstream next) {
            inner.switchTo(app, expected, next);
        }

        @Override
        public void remove(AppRef app) {
            inner.remove(app);
        }
    }

    private static void pause() {
        try {
            Thread.sleep(50); // between polls of a deadline-bounded wait
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
