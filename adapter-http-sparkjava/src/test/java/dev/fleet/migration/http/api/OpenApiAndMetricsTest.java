package dev.fleet.migration.http.api;

import static dev.fleet.migration.http.TestFleets.AGENT;
import static dev.fleet.migration.http.TestFleets.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.http.ControlPlane;
import dev.fleet.migration.http.TestFleets;
import dev.fleet.migration.http.TestHttp;
import dev.fleet.migration.http.agent.AgentServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenApiAndMetricsTest {
    private FakeFleet fleet;
    private ControlPlane cp;
    private AgentServer agent;

    @BeforeAll
    void start() {
        fleet = TestFleets.instantFleet();
        cp = TestFleets.controlPlane(fleet, Duration.ZERO);
        agent = AgentServer.builder(fleet.node("a")).listen("127.0.0.1", 0).token(AGENT).build().start();
    }

    @AfterAll
    void stop() {
        cp.close();
        agent.close();
    }

    @Test
    @DisplayName("/api/openapi.json documents every route registered on the control plane and the agent")
    void openApiNamesEveryRegisteredRoute() {
        JsonNode doc = TestHttp.send("GET", cp.url() + "/api/openapi.json", OPERATOR, null).json();
        assertThat(doc.get("openapi").asText()).startsWith("3.");
        List<String> registered = new ArrayList<>(cp.routes());
        registered.addAll(agent.routes().registered());
        assertThat(registered).hasSizeGreaterThan(15);
        List<String> missing = new ArrayList<>();
        for (String route : registered) {
            String[] mp = route.split(" ", 2);
            if (!doc.path("paths").path(mp[1]).has(mp[0].toLowerCase(Locale.ROOT))) {
                missing.add(route);
            }
        }
        assertThat(missing).as("routes missing from openapi.json").isEmpty();
    }

    @Test
    @DisplayName("/metrics shows migrations by state, step durations, bytes moved and cutover downtime")
    void metricsShowTheMigration() {
        fleet.deploy("a", AppRef.container("metered"), 8080);
        String id = TestHttp.send("POST", cp.url() + "/api/migrations", OPERATOR,
                "{\"app\":\"metered\",\"source\":\"a\",\"target\":\"b\"}").json().get("id").asText();
        for (int i = 0; i < 30; i++) {
            if (TestHttp.send("POST", cp.url() + "/api/migrations/" + id + "/advance", OPERATOR, null).json()
                    .get("state").asText().equals("done")) {
                break;
            }
        }
        TestHttp.Reply r = TestHttp.send("GET", cp.url() + "/metrics", OPERATOR, null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).startsWith("text/plain");
        assertThat(r.body())
                .contains("fleet_migrations{state=\"done\"} 1.0")
                .contains("fleet_migration_step_duration_seconds_count{state=\"transferring\"} 1")
                .contains("fleet_migration_bytes_moved_bytes_total 1000.0")
                .contains("fleet_migration_cutover_downtime_seconds_count 1");
        assertThat(TestHttp.send("GET", cp.url() + "/metrics", null, null).status()).isEqualTo(401);
    }
}
