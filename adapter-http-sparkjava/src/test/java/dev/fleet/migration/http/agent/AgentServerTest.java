package dev.fleet.migration.http.agent;

import static dev.fleet.migration.http.TestFleets.AGENT;
import static dev.fleet.migration.http.TestFleets.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.NodeUnavailableException;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.core.spi.NodeInventory;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.core.spi.OperationStatus;
import dev.fleet.migration.core.spi.PreflightReport;
import dev.fleet.migration.core.spi.PreflightRequest;
import dev.fleet.migration.core.spi.Role;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.core.testing.MutableClock;
import dev.fleet.migration.http.TestHttp;
import dev.fleet.migration.http.TestHttp.Reply;
import dev.fleet.migration.http.wire.AgentWire;
import dev.fleet.migration.http.wire.Json;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AgentServerTest {
    private final MutableClock clock = MutableClock.at("2026-01-01T00:00:00Z");
    private final FakeFleet fleet = new FakeFleet(clock, 3).durations(Duration.ofSeconds(10));
    private AgentServer server;
    private final AppRef app = AppRef.container("shop");

    @BeforeAll
    void start() {
        fleet.node("a");
        fleet.node("b");
        fleet.deploy("a", app, 8080);
        server = AgentServer.builder(fleet.node("a")).listen("127.0.0.1", 0).token(AGENT).operatorToken(OPERATOR)
                .build().start();
    }

    @AfterAll
    void stop() {
        server.close();
    }

    private String snapshotRequest(long epoch) {
        OperationRequest r = new OperationRequest(new OperationKey(MigrationId.of("m-srv-1"), OperationKind.SNAPSHOT,
                epoch), app, NodeId.of("a"), NodeId.of("b"), Optional.empty(), Duration.ofMinutes(1));
        return Json.write(AgentWire.request(r));
    }

    @Nested
    @DisplayName("security")
    class Security {
        @Test
        @DisplayName("health answers without a token and names the node")
        void healthNeedsNoToken() {
            Reply r = TestHttp.send("GET", server.url() + "/api/agent/v1/health", null, null);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().get("node").asText()).isEqualTo("a");
        }

        @Test
        @DisplayName("a missing token is 401, the operators' token 403, and neither starts anything")
        void refusesMissingAndOperatorTokens() {
            String before = fleet.snapshotOf("a");
            var startsBefore = fleet.workStarts();
            Reply missing = TestHttp.send("POST", server.url() + "/api/agent/v1/migration/snapshot", null,
                    snapshotRequest(1));
            Reply operator = TestHttp.send("POST", server.url() + "/api/agent/v1/migration/snapshot", OPERATOR,
                    snapshotRequest(1));
            Reply wrong = TestHttp.send("GET", server.url() + "/api/agent/v1/inventory", "x".repeat(20), null);
            assertThat(missing.status()).isEqualTo(401);
            assertThat(missing.contentType()).startsWith("application/problem+json");
            assertThat(operator.status()).isEqualTo(403);
            assertThat(operator.json().get("detail").asText()).contains("operator token")
                    .contains("accepts only the control plane token");
            assertThat(wrong.status()).isEqualTo(401);
            assertThat(fleet.snapshotOf("a")).isEqualTo(before);
            assertThat(fleet.workStarts()).isEqualTo(startsBefore);
        }
    }

    @Nested
    @DisplayName("operations")
    class Operations {
        @Test
        @DisplayName("a long operation answers 202 at once with a Location to poll, and a repeat is idempotent")
        void longOperationAnswers202() {
            Reply first = TestHttp.send("POST", server.url() + "/api/agent/v1/migration/snapshot", AGENT,
                    snapshotRequest(1));
            assertThat(first.status()).isEqualTo(202);
            assertThat(first.location()).isEqualTo("/api/agent/v1/operations/m-srv-1/snapshot?epoch=1");
            assertThat(first.json().get("phase").asText()).isEqualTo("running");
            Reply again = TestHttp.send("POST", server.url() + "/api/agent/v1/migration/snapshot", AGENT,
                    snapshotRequest(1));
            assertThat(again.status()).isEqualTo(202);
            clock.advance(Duration.ofSeconds(11));
            Reply polled = TestHttp.send("GET", server.url() + first.location(), AGENT, null);
            assertThat(polled.status()).isEqualTo(200);
            assertThat(polled.json().get("phase").asText()).isEqualTo("succeeded");
            assertThat(polled.json().get("archive").get("sha256").asText()).hasSize(64);
            assertThat(fleet.workStarts()).containsEntry("m-srv-1/SNAPSHOT", 1);
        }

        @Test
        @DisplayName("cutover must name stop-source, start-target or retire-source")
        void cutoverNamesItsOperation() {
            String body = snapshotRequest(1).replace("\"operation\":\"snapshot\",", "");
            Reply none = TestHttp.send("POST", server.url() + "/api/agent/v1/migration/cutover", AGENT, body);
            assertThat(none.status()).isEqualTo(400);
            assertThat(none.json().get("detail").asText()).contains("stop-source, start-target, retire-source");
            Reply wrong = TestHttp.send("POST", server.url() + "/api/agent/v1/migration/cutover", AGENT,
                    snapshotRequest(1));
            assertThat(wrong.status()).isEqualTo(400);
        }

        @Test
        @DisplayName("an unknown operation is 404 operation-not-found")
        void unknownOperationIs404() {
            Reply r = TestHttp.send("GET", server.url() + "/api/agent/v1/operations/m-none/restore?epoch=1", AGENT,
                    null);
            assertThat(r.status()).isEqualTo(404);
            assertThat(r.json().get("type").asText()).isEqualTo("urn:fleet:problem:operation-not-found");
        }
    }

    @Nested
    @DisplayName("the client maps failures to the SPI's exceptions")
    class ClientErrors {
        @Test
        @DisplayName("connection refused is NodeUnavailableException")
        void connectionRefusedIsUnavailable() throws Exception {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            HttpNodeAgent dead = HttpNodeAgent.builder(NodeId.of("a"), URI.create("http://127.0.0.1:" + port))
                    .token(AGENT).build();
            assertThatThrownBy(dead::inventory).isInstanceOf(NodeUnavailableException.class)
                    .hasMessageContaining("cannot reach the agent at http://127.0.0.1:" + port);
        }

        @Test
        @DisplayName("a wrong token is NodeUnavailableException naming the token")
        void wrongTokenIsUnavailable() {
            HttpNodeAgent client = HttpNodeAgent.builder(NodeId.of("a"), URI.create(server.url()))
                    .token(OPERATOR).build();
            assertThatThrownBy(client::inventory).isInstanceOf(NodeUnavailableException.class)
                    .hasMessageContaining("refused the control plane's token (403)");
        }

        @Test
        @DisplayName("5xx and timeouts are NodeUnavailableException; a refusal for good is NodeOperationException")
        void serverErrorsMapToSpiExceptions() {
            try (AgentServer broken = AgentServer.builder(new Scripted(() -> {
                throw new IllegalStateException("disk on fire");
            })).listen("127.0.0.1", 0).token(AGENT).build().start();
                 AgentServer refusing = AgentServer.builder(new Scripted(() -> {
                     throw new NodeOperationException(NodeId.of("z"), "preflight", "bind mount /srv is not supported");
                 })).listen("127.0.0.1", 0).token(AGENT).build().start();
                 AgentServer slow = AgentServer.builder(new Scripted(() -> {
                     try {
                         Thread.sleep(1500);
                     } catch (InterruptedException e) {
                         Thread.currentThread().interrupt();
                     }
                     return PreflightReport.ok(0, java.util.Map.of());
                 })).listen("127.0.0.1", 0).token(AGENT).build().start()) {
                PreflightRequest pr = new PreflightRequest(MigrationId.of("m-x"), 1, app, Role.SOURCE,
                        NodeId.of("z"), NodeId.of("b"), 0);
                assertThatThrownBy(() -> client(broken, Duration.ofSeconds(10)).preflight(pr))
                        .isInstanceOf(NodeUnavailableException.class).hasMessageContaining("500")
                        .hasMessageContaining("disk on fire");
                assertThatThrownBy(() -> client(refusing, Duration.ofSeconds(10)).preflight(pr))
                        .isInstanceOf(NodeOperationException.class)
                        .hasMessage("preflight on node z failed: bind mount /srv is not supported");
                assertThatThrownBy(() -> client(slow, Duration.ofMillis(300)).preflight(pr))
                        .isInstanceOf(NodeUnavailableException.class).hasMessageContaining("did not answer");
            }
        }

        private HttpNodeAgent client(AgentServer s, Duration timeout) {
            return HttpNodeAgent.builder(NodeId.of("z"), URI.create(s.url())).token(AGENT).requestTimeout(timeout)
                    .build();
        }
    }

    /** An agent whose preflight does what the test says. */
    private static final class Scripted implements NodeAgent {
        private final Supplier<PreflightReport> preflight;

        Scripted(Supplier<PreflightReport> preflight) {
            this.preflight = preflight;
        }

        @Override
        public NodeId node() {
            return NodeId.of("z");
        }

        @Override
        public PreflightReport preflight(PreflightRequest request) {
            return preflight.get();
        }

        @Override
        public OperationStatus submit(OperationRequest request) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<OperationStatus> status(OperationKey key) {
            return Optional.empty();
        }

        @Override
        public List<String> compensate(CompensationRequest request) {
            return List.of();
        }

        @Override
        public NodeInventory inventory() {
            return new NodeInventory(List.of(), List.of());
        }
    }

}
