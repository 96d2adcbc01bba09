package dev.fleet.migration.http.security;

import static dev.fleet.migration.http.TestFleets.AGENT;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.core.spi.PreflightRequest;
import dev.fleet.migration.core.spi.Role;
import dev.fleet.migration.http.agent.AgentServer;
import dev.fleet.migration.http.security.HostileNames.Name;
import dev.fleet.migration.http.wire.AgentWire;
import dev.fleet.migration.http.wire.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 9, "Bad names", through the node-agent API (with the control plane's own token): every
 * name a request carries (app, source, target, migration, the archive's file name, the
 * operation, the role) and the migration and operation in the status path, hostile, is refused
 * with 400 problem+json naming the field, before the agent behind the server is called and
 * without any process started. Volume names arrive inside archives; {@code AgentVolumeNamesIT}
 * sends those through a real Docker agent.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("hostile names sent to the node-agent API")
class AgentBadNamesTest {
    private static final String P = AgentServer.PREFIX;
    private static final MigrationId M = MigrationId.of("m-names-1");
    private static final AppRef APP = AppRef.container("web");
    private static final ArchiveInfo ARCHIVE = new ArchiveInfo("/var/lib/fleet/migrations/m-names-1.tar", 10,
            "0".repeat(64));
    private GuardedFleet g;

    @BeforeAll
    void start() {
        g = new GuardedFleet();
    }

    @AfterAll
    void stop() {
        g.close();
    }

    /** A valid request for each body route; each case spoils one field of one of them. */
    private static ObjectNode valid(String route) {
        switch (route) {
            case "preflight":
                return AgentWire.preflight(new PreflightRequest(M, 1, APP, Role.TARGET, NodeId.of("a"), NodeId.of("b"),
                        0));
            case "compensate":
                return AgentWire.compensation(new CompensationRequest(M, 1, APP, Role.SOURCE,
                        Set.of(OperationKind.SNAPSHOT)));
            case "migration/cutover":
                return operation(OperationKind.STOP_SOURCE);
            default:
                return operation(OperationKind.fromWireName(route.substring("migration/".length())));
        }
    }

    private static ObjectNode operation(OperationKind kind) {
        return AgentWire.request(new OperationRequest(new OperationKey(M, kind, 1), APP, NodeId.of("a"),
                NodeId.of("b"), kind == OperationKind.SNAPSHOT ? Optional.empty() : Optional.of(ARCHIVE),
                Duration.ofMinutes(1)));
    }

    Stream<Arguments> bodies() {
        List<Arguments> out = new ArrayList<>();
        List<String> all = List.of("migration/snapshot", "migration/transfer", "migration/restore", "migration/cutover",
                "preflight", "compensate");
        List<String> withNodes = List.of("migration/snapshot", "migration/transfer", "migration/restore",
                "migration/cutover", "preflight");
        List<String> withArchive = List.of("migration/transfer", "migration/restore", "migration/cutover");
        int i = 0;
        for (Name n : HostileNames.appIds()) {
            out.add(Arguments.of(all.get(i++ % all.size()), "app", n, "appId "));
        }
        for (Name n : HostileNames.nodeIds()) {
            String field = i % 2 == 0 ? "source" : "target";
            out.add(Arguments.of(withNodes.get(i++ % withNodes.size()), field, n, field + " "));
        }
        for (Name n : HostileNames.migrationIds()) {
            out.add(Arguments.of(all.get(i++ % all.size()), "migration", n, "migrationId "));
        }
        for (Name n : HostileNames.around("m-names-1.tar")) {
            if (!n.value().contains("/")) { // the agent only ever uses the name after the last slash
                out.add(Arguments.of(withArchive.get(i++ % withArchive.size()), "archive", n, "archive."));
            }
        }
        int o = 0;
        for (Name n : HostileNames.around("stop-source")) {
            if (o++ % 2 == 0) { // every other one: the operation is matched against a closed list of words
                out.add(Arguments.of("migration/cutover", "operation", n, "operation "));
            }
        }
        int j = 0;
        for (Name n : HostileNames.around("source")) {
            if (j++ % 2 == 0) { // every other one: the role is matched against two words, not an allow-list pattern
                out.add(Arguments.of(j % 4 == 1 ? "preflight" : "compensate", "role", n, "role "));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "POST {0} with {1} {2}")
    @MethodSource("bodies")
    @DisplayName("a hostile name in an agent request is refused with 400 naming the field; the agent is not called")
    void hostileFieldIsRefused(String route, String field, Name name, String detailPrefix) {
        ObjectNode body = valid(route);
        if (field.equals("archive")) {
            ((ObjectNode) body.get("archive")).put("path", "/var/lib/fleet/migrations/" + name.value());
        } else {
            body.put(field, name.value());
        }

        RawHttp.Reply r = RawHttp.send(g.agent.port(), "POST", P + "/" + route, Json.write(body),
                "Authorization: Bearer " + AGENT);

        assertRefused(r, detailPrefix);
    }

    Stream<Arguments> paths() {
        List<Arguments> out = new ArrayList<>();
        for (Name n : HostileNames.migrationIds()) {
            if (!n.value().isEmpty() && n.value().indexOf('\0') < 0 && RawHttp.encodeSegment(n.value()).length() < 8000) {
                out.add(Arguments.of(P + "/operations/" + RawHttp.encodeSegment(n.value()) + "/snapshot?epoch=1", n,
                        "migrationId "));
            }
        }
        int o = 0;
        for (Name n : HostileNames.around("snapshot")) {
            if (o++ % 2 == 0 && !n.value().isEmpty() && n.value().indexOf('\0') < 0 && RawHttp.encodeSegment(n.value()).length() < 8000) {
                out.add(Arguments.of(P + "/operations/" + M + "/" + RawHttp.encodeSegment(n.value()) + "?epoch=1", n,
                        "operation "));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "GET status with {1}")
    @MethodSource("paths")
    @DisplayName("a hostile migration or operation in the status path is refused with 400 naming it")
    void hostilePathIsRefused(String target, Name name, String detailPrefix) {
        RawHttp.Reply r = RawHttp.send(g.agent.port(), "GET", target, null, "Authorization: Bearer " + AGENT);

        assertRefused(r, detailPrefix);
    }

    private void assertRefused(RawHttp.Reply r, String detailPrefix) {
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.contentType()).startsWith("application/problem+json");
        JsonNode p = r.json();
        assertThat(p.path("type").asText()).isEqualTo("urn:fleet:problem:invalid-input");
        assertThat(p.path("detail").asText()).as("names the field").startsWith(detailPrefix);
        assertThat(p.path("detail").asText()).as("one printable line").matches("[\\x20-\\x7e]+");
        assertThat(g.agentCalls()).as("the agent behind the server was not called").isEmpty();
        assertThat(g.processes.spawned()).as("no external process was started").isEmpty();
    }
}
