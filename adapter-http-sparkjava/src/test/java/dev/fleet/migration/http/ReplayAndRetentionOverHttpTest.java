package dev.fleet.migration.http;

import static dev.fleet.migration.http.TestFleets.AGENT;
import static dev.fleet.migration.http.TestFleets.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.MigrationIds;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.core.testing.MutableClock;
import dev.fleet.migration.http.agent.AgentServer;
import dev.fleet.migration.http.agent.HttpNodeAgent;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Replaying a kept archive, and the retention sweep, over HTTP")
class ReplayAndRetentionOverHttpTest {
    private final MutableClock clock = MutableClock.at("2026-03-01T10:00:00Z");
    private final FakeFleet fleet = new FakeFleet(clock, 11);
    private AgentServer agentA;
    private ControlPlane cp;

    @BeforeEach
    void start() {
        agentA = AgentServer.builder(fleet.node("a")).listen("127.0.0.1", 0).token(AGENT).build().start();
        HttpNodeAgent a = HttpNodeAgent.builder(NodeId.of("a"), URI.create(agentA.url())).token(AGENT).build();
        cp = ControlPlane.builder().listen("127.0.0.1", 0).operatorToken(OPERATOR).agentToken(AGENT)
                .store(new InMemoryMigrationStore())
                .node(a, "127.0.0.1").node(fleet.node("b"), "127.0.0.1").node(fleet.node("c"), "127.0.0.1")
                .ids(MigrationIds.sequential("r")).clock(clock)
                .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ZERO))
                .sweepEvery(Duration.ZERO)
                .start();
        fleet.deploy("a", AppRef.container("web"), 8080);
    }

    @AfterEach
    void stop() {
        cp.close();
        agentA.close();
    }

    private TestHttp.Reply post(String path, String body) {
        return TestHttp.send("POST", cp.url() + path, OPERATOR, body);
    }

    private JsonNode runToEnd(String id) {
        JsonNode m = TestHttp.send("GET", cp.url() + "/api/migrations/" + id, OPERATOR, null).json();
        for (int i = 0; i < 200 && m.path("active").asBoolean(); i++) {
            clock.advance(Duration.ofSeconds(1));
            m = post("/api/migrations/" + id + "/advance", null).json();
        }
        return m;
    }

    private String failedAtRestore() {
        fleet.failAlways(OperationKind.RESTORE);
        TestHttp.Reply created = post("/api/migrations", "{\"app\":\"web\",\"source\":\"a\",\"target\":\"b\"}");
        assertThat(created.status()).isEqualTo(201);
        JsonNode failed = runToEnd(created.json().path("id").asText());
        assertThat(failed.path("state").asText()).isEqualTo("failed");
        fleet.failNoMore(OperationKind.RESTORE);
        return failed.path("id").asText();
    }

    @Test
    @DisplayName("POST /api/migrations with replayOf runs the kept archive to done on another node")
    void replaysThroughTheApi() {
        String failed = failedAtRestore();
        TestHttp.Reply replay = post("/api/migrations",
                "{\"replayOf\":\"" + failed + "\",\"source\":\"a\",\"target\":\"c\"}");
        assertThat(replay.status()).as(replay.body()).isEqualTo(201);
        assertThat(replay.json().path("facts").path("replay.of").asText()).isEqualTo(failed);
        JsonNode done = runToEnd(replay.json().path("id").asText());
        assertThat(done.path("state").asText()).isEqualTo("done");
        assertThat(fleet.runningOn(AppRef.container("web"))).containsExactly("c");
    }

    @Test
    @DisplayName("a bad replay is refused with a precise problem and stores nothing")
    void refusesBadReplays() {
        String failed = failedAtRestore();
        int before = cp.store().list().size();
        String[][] cases = {
            {"{\"replayOf\":\"../x\",\"source\":\"a\",\"target\":\"c\"}", "400", "replayOf"},
            {"{\"replayOf\":\"r-404\",\"source\":\"a\",\"target\":\"c\"}", "404", "r-404"},
            {"{\"replayOf\":\"" + failed + "\",\"app\":\"other\",\"source\":\"a\",\"target\":\"c\"}", "400", "app"},
            {"{\"replayOf\":\"" + failed + "\",\"source\":\"b\",\"target\":\"c\"}", "400", "node that wrote"},
            {"{\"replayOf\":7,\"source\":\"a\",\"target\":\"c\"}", "400", "replayOf"},
        };
        for (String[] c : cases) {
            TestHttp.Reply r = post("/api/migrations", c[0]);
            assertThat(r.status()).as(c[0] + " -> " + r.body()).isEqualTo(Integer.parseInt(c[1]));
            assertThat(r.contentType()).startsWith("application/problem+json");
            assertThat(r.json().path("detail").asText()).as(c[0]).contains(c[2]);
        }
        assertThat(cp.store().list()).hasSize(before);
    }

    @Test
    @DisplayName("the control plane's retention sweep reaches a remote agent, and keeps what is active")
    void sweepsOverHttp() {
        TestHttp.Reply created = post("/api/migrations", "{\"app\":\"web\",\"source\":\"a\",\"target\":\"b\"}");
        String id = created.json().path("id").asText();
        assertThat(runToEnd(id).path("state").asText()).isEqualTo("done");
        assertThat(fleet.hasArchive("a", MigrationId.of(id))).isTrue();

        assertThat(cp.sweepArchives()).as("within the retention").isEmpty();
        clock.advance(Duration.ofDays(8));
        List<String> removed = cp.sweepArchives();

        assertThat(removed).containsExactlyInAnyOrder("a: removed archive " + id + ".tar",
                "b: removed archive " + id + ".tar");
        assertThat(fleet.hasArchive("a", MigrationId.of(id))).isFalse();
    }

    @Test
    @DisplayName("the agent's sweep route refuses a malformed request with a precise problem")
    void sweepRouteValidates() {
        HttpNodeAgent a = HttpNodeAgent.builder(NodeId.of("a"), URI.create(agentA.url())).token(AGENT).build();
        assertThat(a.sweepArchives(clock.instant(), Set.of())).isEmpty();
        TestHttp.Reply r = TestHttp.send("POST", agentA.url() + "/api/agent/v1/archives/sweep", AGENT,
                "{\"olderThan\":\"last tuesday\",\"keep\":[]}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().path("detail").asText()).contains("olderThan");
        TestHttp.Reply noToken = TestHttp.send("POST", agentA.url() + "/api/agent/v1/archives/sweep", null,
                "{\"olderThan\":\"2026-01-01T00:00:00Z\",\"keep\":[]}");
        assertThat(noToken.status()).isEqualTo(401);
        assertThatThrownBy(() -> ControlPlane.builder().retention(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
