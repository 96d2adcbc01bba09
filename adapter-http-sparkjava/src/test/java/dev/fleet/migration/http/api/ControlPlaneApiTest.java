package dev.fleet.migration.http.api;

import static dev.fleet.migration.http.TestFleets.AGENT;
import static dev.fleet.migration.http.TestFleets.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.http.ControlPlane;
import dev.fleet.migration.http.TestFleets;
import dev.fleet.migration.http.TestHttp;
import dev.fleet.migration.http.TestHttp.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ControlPlaneApiTest {
    private FakeFleet fleet;
    private ControlPlane cp;
    private String activeId;
    private String terminalId;

    @BeforeAll
    void start() {
        fleet = TestFleets.instantFleet();
        cp = TestFleets.controlPlane(fleet, Duration.ZERO);
        for (String app : List.of("busy", "gone", "web1", "web2", "web3", "web4")) {
            fleet.deploy("a", AppRef.container(app), 8080);
        }
        activeId = post("/api/migrations", "{\"app\":\"busy\",\"source\":\"a\",\"target\":\"b\"}").json()
                .get("id").asText();
        terminalId = post("/api/migrations", "{\"app\":\"gone\",\"source\":\"a\",\"target\":\"b\"}").json()
                .get("id").asText();
        assertThat(post("/api/migrations/" + terminalId + "/fail", "{\"reason\":\"setup\"}").status()).isEqualTo(200);
    }

    @AfterAll
    void stop() {
        cp.close();
    }

    private Reply post(String path, String body) {
        return TestHttp.send("POST", cp.url() + path, OPERATOR, body);
    }

    private Reply get(String path) {
        return TestHttp.send("GET", cp.url() + path, OPERATOR, null);
    }

    @Nested
    @DisplayName("the happy path")
    class HappyPath {
        @Test
        @DisplayName("create answers 201 with a Location that GET finds, in pending, and list shows it")
        void createAnswers201WithLocation() {
            Reply r = post("/api/migrations", "{\"app\":\"web1\",\"source\":\"a\",\"target\":\"b\"}");
            assertThat(r.status()).isEqualTo(201);
            assertThat(r.contentType()).startsWith("application/json");
            JsonNode m = r.json();
            assertThat(m.get("state").asText()).isEqualTo("pending");
            assertThat(m.get("app").asText()).isEqualTo("web1");
            assertThat(r.location()).isEqualTo("/api/migrations/" + m.get("id").asText());
            assertThat(get(r.location()).json().get("id").asText()).isEqualTo(m.get("id").asText());
            assertThat(get("/api/migrations").json().findValuesAsText("id")).contains(m.get("id").asText());
            assertThat(get("/api/migrations?state=pending").json().findValuesAsText("state")).containsOnly("pending");
        }

        @Test
        @DisplayName("advance step by step passes every state in order to done, and history records each save")
        void advanceStepByStepReachesDone() {
            String id = post("/api/migrations", "{\"app\":\"web2\",\"source\":\"a\",\"target\":\"c\"}").json()
                    .get("id").asText();
            List<String> seen = new ArrayList<>(List.of("pending"));
            for (int i = 0; i < 30 && !seen.get(seen.size() - 1).equals("done"); i++) {
                Reply r = post("/api/migrations/" + id + "/advance", null);
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                String s = r.json().get("state").asText();
                if (!s.equals(seen.get(seen.size() - 1))) {
                    seen.add(s);
                }
            }
            assertThat(seen).containsExactly("pending", "snapshotting", "transferring", "restoring", "cutover", "done");
            JsonNode done = get("/api/migrations/" + id).json();
            assertThat(done.get("steps")).hasSize(6);
            assertThat(done.get("archive").get("sha256").asText()).hasSize(64);
            assertThat(done.get("downtimeMs").isNumber()).isTrue();
            assertThat(done.get("progress").has("etaMs")).isTrue();
            JsonNode history = get("/api/migrations/" + id + "/history").json();
            assertThat(history.size()).isGreaterThanOrEqualTo(6);
            assertThat(history.get(0).get("state").asText()).isEqualTo("pending");
            assertThat(history.get(history.size() - 1).get("state").asText()).isEqualTo("done");
            assertThat(fleet.runningOn(AppRef.container("web2"))).containsExactly("c");
        }

        @Test
        @DisplayName("fail aborts with the reason and the state it failed in")
        void failAbortsWithReason() {
            String id = post("/api/migrations", "{\"app\":\"web3\",\"source\":\"a\",\"target\":\"b\"}").json()
                    .get("id").asText();
            post("/api/migrations/" + id + "/advance", null);
            post("/api/migrations/" + id + "/advance", null);
            Reply r = post("/api/migrations/" + id + "/fail", "{\"reason\":\"maintenance window closed\"}");
            assertThat(r.status()).isEqualTo(200);
            JsonNode f = r.json().get("failure");
            assertThat(r.json().get("state").asText()).isEqualTo("failed");
            assertThat(f.get("reason").asText()).contains("maintenance window closed");
            assertThat(f.get("failedIn").asText()).isIn("snapshotting", "transferring");
            assertThat(f.get("compensation").get("outcome").asText()).isIn("complete", "not-needed");
            assertThat(fleet.runningOn(AppRef.container("web3"))).containsExactly("a");
        }

        @Test
        @DisplayName("nodes lists the configured nodes")
        void nodesListsConfiguredNodes() {
            assertThat(get("/api/nodes").json().findValuesAsText("id")).containsExactly("a", "b", "c");
        }
    }

    Stream<Arguments> badRequests() {
        String create = "/api/migrations";
        return Stream.of(
                Arguments.of("malformed JSON", "POST", create, OPERATOR, "{\"app\":\"web4\",", 400,
                        "malformed-json", "the request body is not valid JSON"),
                Arguments.of("a body that is not an object", "POST", create, OPERATOR, "[1,2]", 400,
                        "malformed-json", "must be a JSON object, but was an array"),
                Arguments.of("an empty body", "POST", create, OPERATOR, "", 400, "malformed-json",
                        "the request body is empty"),
                Arguments.of("a missing field", "POST", create, OPERATOR, "{\"app\":\"web4\",\"source\":\"a\"}", 400,
                        "invalid-body", "the request body is missing the field 'target'"),
                Arguments.of("a field of the wrong type", "POST", create, OPERATOR,
                        "{\"app\":7,\"source\":\"a\",\"target\":\"b\"}", 400, "invalid-body",
                        "the field 'app' must be a string, but was a number"),
                Arguments.of("an unknown field", "POST", create, OPERATOR,
                        "{\"app\":\"web4\",\"source\":\"a\",\"target\":\"b\",\"force\":true}", 400, "invalid-body",
                        "unknown field 'force'"),
                Arguments.of("an invalid app id", "POST", create, OPERATOR,
                        "{\"app\":\"../x\",\"source\":\"a\",\"target\":\"b\"}", 400, "invalid-input",
                        "appId must match [a-zA-Z0-9][a-zA-Z0-9_.-]*, but was '../x'"),
                Arguments.of("an unknown node", "POST", create, OPERATOR,
                        "{\"app\":\"web4\",\"source\":\"a\",\"target\":\"zz\"}", 400, "unknown-node",
                        "target names unknown node 'zz'; configured nodes: a, b, c"),
                Arguments.of("source = target", "POST", create, OPERATOR,
                        "{\"app\":\"web4\",\"source\":\"a\",\"target\":\"a\"}", 400, "invalid-input",
                        "target must differ from source 'a'"),
                Arguments.of("a duplicate active migration", "POST", create, OPERATOR,
                        "{\"app\":\"busy\",\"source\":\"a\",\"target\":\"c\"}", 409, "active-migration-exists",
                        "app 'busy' already has an active migration ACTIVE"),
                Arguments.of("advance on a terminal migration", "POST", "/api/migrations/TERMINAL/advance", OPERATOR,
                        null, 409, "migration-terminal", "migration TERMINAL is FAILED and cannot advance"),
                Arguments.of("fail on a terminal migration", "POST", "/api/migrations/TERMINAL/fail", OPERATOR,
                        "{\"reason\":\"again\"}", 409, "migration-terminal", "migration TERMINAL is FAILED and cannot fail"),
                Arguments.of("an unknown id", "GET", "/api/migrations/m-nope", OPERATOR, null, 404,
                        "migration-not-found", "no migration with id m-nope"),
                Arguments.of("advance of an unknown id", "POST", "/api/migrations/m-nope/advance", OPERATOR, null, 404,
                        "migration-not-found", "no migration with id m-nope"),
                Arguments.of("fail of an unknown id", "POST", "/api/migrations/m-nope/fail", OPERATOR, null, 404,
                        "migration-not-found", "no migration with id m-nope"),
                Arguments.of("a malformed id", "GET", "/api/migrations/NOPE!", OPERATOR, null, 400,
                        "invalid-input", "migrationId must match"),
                Arguments.of("a reason with control characters", "POST", "/api/migrations/ACTIVE/fail", OPERATOR,
                        "{\"reason\":\"a\\u0007b\"}", 400, "invalid-input", "reason must not hold control characters"),
                Arguments.of("a missing token", "POST", create, null,
                        "{\"app\":\"web4\",\"source\":\"a\",\"target\":\"b\"}", 401, "unauthorized", "missing bearer token"),
                Arguments.of("a wrong token", "POST", create, "not-the-operator-token-at-all",
                        "{\"app\":\"web4\",\"source\":\"a\",\"target\":\"b\"}", 401, "unauthorized", "wrong bearer token"),
                Arguments.of("the agent token on the control plane", "POST", create, AGENT,
                        "{\"app\":\"web4\",\"source\":\"a\",\"target\":\"b\"}", 403, "forbidden",
                        "accepts only the operator token"),
                Arguments.of("a missing token on a read", "GET", "/api/migrations", null, null, 401, "unauthorized",
                        "missing bearer token"),
                Arguments.of("an unknown route", "GET", "/api/nope", OPERATOR, null, 404, "no-such-route",
                        "no route for GET /api/nope"));
    }

    @ParameterizedTest(name = "{0} -> {5}")
    @MethodSource("badRequests")
    @DisplayName("bad input is refused with problem+json and changes nothing")
    void badInputIsRefusedWithoutSideEffects(String name, String method, String path, String token, String body,
                                             int status, String type, String detail) {
        String p = path.replace("ACTIVE", activeId).replace("TERMINAL", terminalId);
        String d = detail.replace("ACTIVE", activeId).replace("TERMINAL", terminalId);
        String before = storeSnapshot();
        String nodesBefore = fleet.snapshotOf("a") + fleet.snapshotOf("b") + fleet.snapshotOf("c");

        Reply r = TestHttp.send(method, cp.url() + p, token, body);

        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.contentType()).startsWith("application/problem+json");
        JsonNode problem = r.json();
        assertThat(problem.get("type").asText()).isEqualTo("urn:fleet:problem:" + type);
        assertThat(problem.get("title").asText()).isNotBlank();
        assertThat(problem.get("status").asInt()).isEqualTo(status);
        assertThat(problem.get("detail").asText()).contains(d);
        assertThat(storeSnapshot()).as("the store is unchanged").isEqualTo(before);
        assertThat(fleet.snapshotOf("a") + fleet.snapshotOf("b") + fleet.snapshotOf("c"))
                .as("the nodes are unchanged").isEqualTo(nodesBefore);
    }

    private String storeSnapshot() {
        StringBuilder sb = new StringBuilder();
        for (Migration m : cp.store().list()) {
            sb.append(m).append(cp.store().history(m.id()).size()).append('\n');
        }
        return sb.toString();
    }
}
