package dev.fleet.migration.http.security;

import static dev.fleet.migration.http.TestFleets.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.http.wire.Json;
import dev.fleet.migration.http.security.HostileNames.Name;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 9, "Bad names", through the control-plane API: every hostile app id and node id in the
 * create request, every hostile migration id in the path of get, history, advance and fail, is
 * refused with 400 problem+json whose detail names the field, and nothing changes: no migration
 * stored or touched, no agent called, no process started.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("hostile names sent to the control-plane API")
class BadNamesApiTest {
    private GuardedFleet g;

    @BeforeAll
    void start() {
        g = new GuardedFleet();
    }

    @AfterAll
    void stop() {
        g.close();
    }

    @Test
    @DisplayName("the generator yields at least 200 distinct hostile app ids, node ids, volume names and migration ids")
    void generatorYieldsEnoughNames() {
        assertThat(HostileNames.appIds()).hasSizeGreaterThanOrEqualTo(200);
        assertThat(HostileNames.nodeIds()).hasSizeGreaterThanOrEqualTo(200);
        assertThat(HostileNames.volumeNames()).hasSizeGreaterThanOrEqualTo(200);
        assertThat(HostileNames.migrationIds()).hasSizeGreaterThanOrEqualTo(200);
        assertThat(HostileNames.countByCategory(HostileNames.appIds())).containsKeys("shell metacharacter", "quote",
                "whitespace and control", "path traversal", "unicode look-alike", "percent-encoded",
                "leading dash, dot or underscore", "empty", "only dots", "length", "compose: prefix abuse");
    }

    Stream<Arguments> createRequests() {
        List<Arguments> out = new ArrayList<>();
        for (Name n : HostileNames.appIds()) {
            out.add(Arguments.of("app", n, "appId "));
        }
        for (Name n : HostileNames.nodeIds()) {
            out.add(Arguments.of("source", n, "source "));
            out.add(Arguments.of("target", n, "target "));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "POST /api/migrations with {0} {1}")
    @MethodSource("createRequests")
    @DisplayName("create refuses a hostile app id or node id with 400 naming the field, and changes nothing")
    void createRefusesHostileName(String field, Name name, String detailPrefix) {
        ObjectNode body = Json.object().put("app", "web").put("source", "a").put("target", "c");
        body.put(field, name.value());
        String before = g.state();

        RawHttp.Reply r = RawHttp.send(g.cp.port(), "POST", "/api/migrations", Json.write(body),
                "Authorization: Bearer " + OPERATOR);

        assertRefusedNamingField(r, 400, "invalid-input", detailPrefix);
        assertNothingHappened(before);
    }

    Stream<Arguments> pathRequests() {
        List<Arguments> out = new ArrayList<>();
        int i = 0;
        for (Name n : HostileNames.migrationIds()) {
            if (n.value().isEmpty()) {
                continue; // an empty segment is another URL, not an id: see emptyIdIsNoRoute
            }
            // every id through advance (the tick: the route that would start work on a node), and each
            // through one of the other three in turn
            out.add(Arguments.of("POST", "/advance", n));
            out.add(List.of(Arguments.of("GET", "", n), Arguments.of("GET", "/history", n),
                    Arguments.of("POST", "/fail", n)).get(i++ % 3));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} /api/migrations/<{2}>{1}")
    @MethodSource("pathRequests")
    @DisplayName("a hostile migration id in the path, percent-encoded, is refused with 400 naming migrationId")
    void pathRefusesHostileId(String method, String suffix, Name name) {
        String before = g.state();

        RawHttp.Reply r = RawHttp.send(g.cp.port(), method, "/api/migrations/" + RawHttp.encodeSegment(name.value())
                + suffix, method.equals("POST") ? "{}" : null, "Authorization: Bearer " + OPERATOR);

        if (name.value().indexOf('\0') >= 0) {
            // Jetty refuses a NUL anywhere in the path before any route sees it: still 400 problem+json
            assertRefusedNamingField(r, 400, "bad-request", "the HTTP server refused the request");
        } else if (RawHttp.encodeSegment(name.value()).length() > 8000) {
            // longer than Jetty's request line: 414, as problem+json, before any route
            assertRefusedNamingField(r, 414, "bad-request", "the HTTP server refused the request");
        } else {
            assertRefusedNamingField(r, 400, "invalid-input", "migrationId ");
        }
        assertNothingHappened(before);
    }

    @Test
    @DisplayName("an empty id is no route (404 problem+json), and an id sent unencoded cannot reach another route")
    void emptyIdIsNoRoute() {
        String before = g.state();
        for (String target : List.of("/api/migrations//advance", "/api/migrations//fail", "/api/migrations/%2E%2E/advance",
                "/api/migrations/../migrations/advance", "/api/migrations/" + g.existingId + "%2Fadvance")) {
            RawHttp.Reply r = RawHttp.send(g.cp.port(), "POST", target, "{}", "Authorization: Bearer " + OPERATOR);
            assertThat(r.status()).as(target + " -> " + r.body()).isIn(400, 404);
            assertThat(r.isProblem()).as(target).isTrue();
        }
        assertNothingHappened(before);
    }

    private static void assertRefusedNamingField(RawHttp.Reply r, int status, String type, String detailPrefix) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.contentType()).startsWith("application/problem+json");
        JsonNode p = r.json();
        assertThat(p.path("type").asText()).as(r.body()).isEqualTo("urn:fleet:problem:" + type);
        assertThat(p.path("status").asInt()).isEqualTo(status);
        String detail = p.path("detail").asText();
        assertThat(detail).as("the detail names the field").startsWith(detailPrefix);
        assertThat(detail).as("the detail is one printable ASCII line").matches("[\\x20-\\x7e]+");
        assertThat(detail.length()).as("a long value is cut in the message (80 characters, escaped)").isLessThan(700);
    }

    private void assertNothingHappened(String before) {
        assertThat(g.state()).as("store and nodes unchanged").isEqualTo(before);
        assertThat(g.agentCalls()).as("no agent was called").isEmpty();
        assertThat(g.processes.spawned()).as("no external process was started").isEmpty();
    }
}
