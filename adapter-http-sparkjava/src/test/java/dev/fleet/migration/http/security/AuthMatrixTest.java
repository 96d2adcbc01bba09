package dev.fleet.migration.http.security;

import static dev.fleet.migration.http.TestFleets.AGENT;
import static dev.fleet.migration.http.TestFleets.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.core.spi.PreflightRequest;
import dev.fleet.migration.core.spi.Role;
import dev.fleet.migration.http.agent.AgentServer;
import dev.fleet.migration.http.wire.AgentWire;
import dev.fleet.migration.http.wire.Json;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import spark.Service;
import spark.route.HttpMethod;
import spark.routematch.RouteMatch;

/**
 * Issue 9, "Auth": every endpoint of the control plane and of the agent, enumerated from what
 * the servers actually route (Spark's own route table, not a list kept by hand) and from
 * {@code /api/openapi.json}, is called with no token, a wrong token, the other role's token and
 * malformed Authorization headers. Each answers 401 (403 for the other role's token) as
 * problem+json, and nothing changes: the store, the nodes, the agents (not called) and the
 * processes (none started). The Control Panel's files and the agent's health are the documented
 * exceptions. A route that exists but is not in {@link #MATRIX} fails the test.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("the auth matrix: every endpoint x every bad credential")
class AuthMatrixTest {
    private static final String CP = "control plane";
    private static final String AG = "agent";

    /** A request that, with the right token, reaches its route and would change or reveal something. */
    record Template(String server, String target, String body) {}

    /** Routes that need no token, and why (the documented exceptions). */
    static final Map<String, String> PUBLIC = Map.of(
            "control plane GET /", "the Control Panel page: static, holds no data",
            "control plane GET /assets/app.js", "the Control Panel script: static, holds no data",
            "control plane GET /assets/app.css", "the Control Panel style sheet: static, holds no data",
            "agent GET /api/agent/v1/health", "the agent's health: status and node id only");

    private static final MigrationId M = MigrationId.of("m-auth-1");
    private static final AppRef SHOP = AppRef.container("shop");
    static final Map<String, Template> MATRIX = new LinkedHashMap<>();

    private GuardedFleet g;

    @BeforeAll
    void start() {
        g = new GuardedFleet();
        g.fleet.deploy("a", SHOP, 8081);
        String id = g.existingId;
        cp("POST /api/migrations", "/api/migrations", "{\"app\":\"shop\",\"source\":\"a\",\"target\":\"c\"}");
        cp("GET /api/migrations", "/api/migrations", null);
        cp("GET /api/migrations/{id}", "/api/migrations/" + id, null);
        cp("POST /api/migrations/{id}/advance", "/api/migrations/" + id + "/advance", null);
        cp("POST /api/migrations/{id}/fail", "/api/migrations/" + id + "/fail", "{\"reason\":\"auth matrix\"}");
        cp("GET /api/migrations/{id}/history", "/api/migrations/" + id + "/history", null);
        cp("GET /api/nodes", "/api/nodes", null);
        cp("GET /api/openapi.json", "/api/openapi.json", null);
        cp("GET /metrics", "/metrics", null);
        cp("GET /", "/", null);
        cp("GET /assets/app.js", "/assets/app.js", null);
        cp("GET /assets/app.css", "/assets/app.css", null);
        String p = AgentServer.PREFIX;
        for (OperationKind k : List.of(OperationKind.SNAPSHOT, OperationKind.TRANSFER, OperationKind.RESTORE)) {
            ag("POST " + p + "/migration/" + k.wireName(), p + "/migration/" + k.wireName(), operation(k));
        }
        ag("POST " + p + "/migration/cutover", p + "/migration/cutover", operation(OperationKind.STOP_SOURCE));
        ag("GET " + p + "/operations/{migration}/{operation}", p + "/operations/" + M + "/snapshot?epoch=1", null);
        ag("POST " + p + "/preflight", p + "/preflight", Json.write(AgentWire.preflight(new PreflightRequest(M, 1,
                SHOP, Role.SOURCE, NodeId.of("a"), NodeId.of("b"), 0))));
        ag("POST " + p + "/compensate", p + "/compensate", Json.write(AgentWire.compensation(new CompensationRequest(M,
                1, SHOP, Role.SOURCE, Set.of(OperationKind.SNAPSHOT)))));
        ag("GET " + p + "/inventory", p + "/inventory", null);
        ag("POST " + p + "/archives/sweep", p + "/archives/sweep",
                Json.write(AgentWire.sweep(Instant.parse("2100-01-01T00:00:00Z"), Set.of())));
        ag("GET " + p + "/health", p + "/health", null);
    }

    @AfterAll
    void stop() {
        g.close();
    }

    private static void cp(String route, String target, String body) {
        MATRIX.put(CP + " " + route, new Template(CP, target, body));
    }

    private static void ag(String route, String target, String body) {
        MATRIX.put(AG + " " + route, new Template(AG, target, body));
    }

    private static String operation(OperationKind kind) {
        return Json.write(AgentWire.request(new OperationRequest(new OperationKey(M, kind, 1), SHOP, NodeId.of("a"),
                NodeId.of("b"), Optional.empty(), Duration.ofMinutes(1))));
    }

    // ------------------------------------------------------------------ the route table

    /** What a server really routes, from Spark's own table: {@code "agent POST /api/agent/v1/preflight"}. */
    static Set<String> served(String server, Object owner) {
        try {
            Field f = owner.getClass().getDeclaredField("http");
            f.setAccessible(true);
            Service http = (Service) f.get(owner);
            Set<String> out = new TreeSet<>();
            for (RouteMatch r : http.routes()) {
                HttpMethod m = r.getHttpMethod();
                if (m == HttpMethod.before || m == HttpMethod.after || m == HttpMethod.afterafter) {
                    continue;
                }
                out.add(server + " " + m.name().toUpperCase(Locale.ROOT) + " "
                        + r.getMatchUri().replaceAll(":([A-Za-z0-9_]+)", "{$1}"));
            }
            return out;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot read the Spark service of " + owner.getClass().getSimpleName()
                    + " (was its 'http' field renamed?): the auth matrix must enumerate the real routes", e);
        }
    }

    /** Every operation openapi.json documents, attributed to the server whose prefix it has. */
    private Set<String> documented() {
        JsonNode doc = RawHttp.send(g.cp.port(), "GET", "/api/openapi.json", null, "Authorization: Bearer " + OPERATOR)
                .json();
        Set<String> out = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = doc.path("paths").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String server = e.getKey().startsWith(AgentServer.PREFIX) ? AG : CP;
            for (Iterator<String> ms = e.getValue().fieldNames(); ms.hasNext(); ) {
                String m = ms.next().toUpperCase(Locale.ROOT);
                if (List.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS").contains(m)) {
                    out.add(server + " " + m + " " + e.getKey());
                }
            }
        }
        return out;
    }

    @Test
    @DisplayName("every route the servers serve, and every operation openapi.json documents, is in the matrix")
    void matrixCoversEveryRoute() {
        Set<String> all = new TreeSet<>(served(CP, g.cp));
        all.addAll(served(AG, g.agent));
        assertThat(all).as("Spark's route tables").hasSizeGreaterThan(15);
        all.addAll(documented());
        List<String> missing = new ArrayList<>();
        for (String r : all) {
            if (!MATRIX.containsKey(r)) {
                missing.add(r);
            }
        }
        assertThat(missing).as("routes with no entry in AuthMatrixTest.MATRIX: add a request for each").isEmpty();
        Set<String> stale = new TreeSet<>(MATRIX.keySet());
        stale.removeAll(all);
        assertThat(stale).as("matrix entries for routes that no longer exist").isEmpty();
    }

    // ------------------------------------------------------------------ the matrix

    /** A bad credential: its Authorization header lines, the status each server must answer, and its name. */
    record Credential(String name, int onControlPlane, int onAgent, String... headers) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Credential> credentials() {
        String basic = Base64.getEncoder().encodeToString(("operator:" + OPERATOR).getBytes(StandardCharsets.UTF_8));
        return List.of(
                new Credential("no token", 401, 401),
                new Credential("wrong token", 401, 401, "Authorization: Bearer wrong-token-0123456789abcdef"),
                new Credential("the other role's token", 403, 403, "CP:Authorization: Bearer " + AGENT,
                        "AG:Authorization: Bearer " + OPERATOR),
                new Credential("scheme without token", 401, 401, "Authorization: Bearer"),
                new Credential("scheme and a blank", 401, 401, "Authorization: Bearer    "),
                new Credential("empty header", 401, 401, "Authorization: "),
                new Credential("token without scheme", 401, 401, "CP:Authorization: " + OPERATOR, "AG:Authorization: " + AGENT),
                new Credential("Basic scheme with the right secret", 401, 401, "Authorization: Basic " + basic),
                new Credential("another scheme", 401, 401, "CP:Authorization: Token " + OPERATOR, "AG:Authorization: Token " + AGENT),
                new Credential("right token with a suffix", 401, 401, "CP:Authorization: Bearer " + OPERATOR + "x",
                        "AG:Authorization: Bearer " + AGENT + "x"),
                new Credential("right token cut short", 401, 401, "CP:Authorization: Bearer " + OPERATOR.substring(0, 20),
                        "AG:Authorization: Bearer " + AGENT.substring(0, 20)),
                new Credential("right token in upper case", 401, 401,
                        "CP:Authorization: Bearer " + OPERATOR.toUpperCase(Locale.ROOT),
                        "AG:Authorization: Bearer " + AGENT.toUpperCase(Locale.ROOT)),
                new Credential("two tokens in one header", 401, 401, "CP:Authorization: Bearer " + OPERATOR + " " + OPERATOR,
                        "AG:Authorization: Bearer " + AGENT + " " + AGENT),
                new Credential("token list", 401, 401, "CP:Authorization: Bearer wrong, Bearer " + OPERATOR,
                        "AG:Authorization: Bearer wrong, Bearer " + AGENT),
                new Credential("tab instead of space", 401, 401, "CP:Authorization: Bearer\t" + OPERATOR,
                        "AG:Authorization: Bearer\t" + AGENT),
                new Credential("a wrong header first, the right one second", 401, 401,
                        "Authorization: Bearer wrong-token-0123456789abcdef", "CP:Authorization: Bearer " + OPERATOR,
                        "AG:Authorization: Bearer " + AGENT),
                new Credential("token in another header", 401, 401, "CP:X-Auth-Token: " + OPERATOR,
                        "AG:X-Auth-Token: " + AGENT),
                new Credential("token in a cookie", 401, 401, "CP:Cookie: token=" + OPERATOR, "AG:Cookie: token=" + AGENT),
                new Credential("non-ASCII token", 401, 401, "Authorization: Bearer t\u00f6ken-\u0430-0123456789abcdef"),
                new Credential("huge token", 401, 401, "Authorization: Bearer " + "x".repeat(6000)));
    }

    private static String[] headersFor(Credential c, String server) {
        List<String> out = new ArrayList<>();
        for (String h : c.headers()) {
            if (h.startsWith("CP:")) {
                if (server.equals(CP)) {
                    out.add(h.substring(3));
                }
            } else if (h.startsWith("AG:")) {
                if (server.equals(AG)) {
                    out.add(h.substring(3));
                }
            } else {
                out.add(h);
            }
        }
        return out.toArray(String[]::new);
    }

    Stream<Arguments> protectedRoutesTimesCredentials() {
        List<Arguments> out = new ArrayList<>();
        for (Map.Entry<String, Template> e : MATRIX.entrySet()) {
            if (PUBLIC.containsKey(e.getKey())) {
                continue;
            }
            for (Credential c : credentials()) {
                out.add(Arguments.of(e.getKey(), c));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} with {1}")
    @MethodSource("protectedRoutesTimesCredentials")
    @DisplayName("a protected route refuses each bad credential with 401/403 problem+json, and nothing changes")
    void badCredentialIsRefusedWithoutSideEffect(String route, Credential credential) {
        Template t = MATRIX.get(route);
        String before = g.state();

        RawHttp.Reply r = send(t, route.split(" ")[1 + (t.server().equals(CP) ? 1 : 0)], t.target(),
                headersFor(credential, t.server()));

        int expected = t.server().equals(CP) ? credential.onControlPlane() : credential.onAgent();
        assertThat(r.status()).as(route + " " + credential + ": " + r.body()).isEqualTo(expected);
        assertThat(r.contentType()).startsWith("application/problem+json");
        JsonNode p = r.json();
        assertThat(p.path("type").asText()).isEqualTo(expected == 401 ? "urn:fleet:problem:unauthorized"
                : "urn:fleet:problem:forbidden");
        assertThat(p.path("status").asInt()).isEqualTo(expected);
        assertThat(p.path("detail").asText()).as("says which token the API accepts")
                .contains(t.server().equals(CP) ? "operator token" : "control plane token");
        assertThat(r.body()).as("never echoes a token").doesNotContain(OPERATOR).doesNotContain(AGENT);
        if (expected == 401) {
            assertThat(r.headers().get("www-authenticate")).as("a 401 names the scheme").startsWith("Bearer");
        }
        assertNothingHappened(before);
    }

    Stream<Arguments> bypassAttempts() {
        List<Arguments> out = new ArrayList<>();
        for (Map.Entry<String, Template> e : MATRIX.entrySet()) {
            if (PUBLIC.containsKey(e.getKey())) {
                continue;
            }
            Template t = e.getValue();
            String method = e.getKey().split(" ")[t.server().equals(CP) ? 2 : 1];
            String path = t.target();
            out.add(Arguments.of(e.getKey(), method, "/" + path));
            out.add(Arguments.of(e.getKey(), method, path.replaceFirst("^/([^/]+)/", "/$1//")));
            out.add(Arguments.of(e.getKey(), method, "//" + path.substring(1).replace("/", "///")));
            out.add(Arguments.of(e.getKey(), method, "/assets/../" + path.substring(1)));
            out.add(Arguments.of(e.getKey(), method, "/./" + path.substring(1)));
            out.add(Arguments.of(e.getKey(), method, "/%61" + path.substring(2)));
            if (method.equals("GET")) {
                out.add(Arguments.of(e.getKey(), "HEAD", path));
            }
        }
        String p = AgentServer.PREFIX;
        // the agent's one public path, reached through another route's parameters
        out.add(Arguments.of("agent GET " + p + "/operations/{migration}/{operation}", "GET", p + "/operations/../health"));
        out.add(Arguments.of("agent GET " + p + "/operations/{migration}/{operation}", "GET",
                p + "/operations/%2e%2e/health"));
        out.add(Arguments.of("agent GET " + p + "/operations/{migration}/{operation}", "GET",
                p + "/operations/health/..;/health"));
        out.add(Arguments.of("agent GET " + p + "/inventory", "GET", p + "/health/../inventory"));
        out.add(Arguments.of("agent GET " + p + "/inventory", "GET", p + "/health;/../inventory"));
        out.add(Arguments.of("agent GET " + p + "/inventory", "GET", p + "/health%2F..%2Finventory"));
        out.add(Arguments.of("control plane GET /api/migrations", "GET", "/assets/..%2F..%2Fapi/migrations"));
        out.add(Arguments.of("control plane GET /api/migrations", "GET", "/assets//../api/migrations"));
        return out.stream();
    }

    @ParameterizedTest(name = "{1} {2} ({0})")
    @MethodSource("bypassAttempts")
    @DisplayName("an untokened request with a rewritten path never reaches a protected route")
    void rewrittenPathsDoNotBypassTheToken(String route, String method, String rawTarget) {
        Template t = MATRIX.get(route);
        String before = g.state();

        RawHttp.Reply r = RawHttp.send(port(t), method, rawTarget, t.body());

        // 401: refused by the token check; 404: no route at all (no handler ran); 400: Jetty refused the path
        assertThat(r.status()).as(method + " " + rawTarget + " -> " + r.body()).isIn(400, 401, 404);
        if (!method.equals("HEAD")) {
            assertThat(r.isProblem()).as(r.body()).isTrue();
            if (r.status() == 400) {
                assertThat(r.json().path("type").asText()).isEqualTo("urn:fleet:problem:bad-request");
            }
            if (r.status() == 404) {
                assertThat(r.json().path("type").asText()).isEqualTo("urn:fleet:problem:no-such-route");
            }
        }
        assertNothingHappened(before);
    }

    @Test
    @DisplayName("the documented exceptions answer without a token and hold no data")
    void publicRoutesHoldNoData() {
        String before = g.state();
        for (String route : PUBLIC.keySet()) {
            Template t = MATRIX.get(route);
            RawHttp.Reply r = RawHttp.send(port(t), "GET", t.target(), null);
            assertThat(r.status()).as(route).isEqualTo(200);
            assertThat(r.body()).as(route).doesNotContain(g.existingId).doesNotContain(OPERATOR).doesNotContain(AGENT);
        }
        JsonNode health = RawHttp.send(g.agent.port(), "GET", AgentServer.PREFIX + "/health", null).json();
        assertThat(health.size()).isEqualTo(2);
        assertThat(health.path("status").asText()).isEqualTo("ok");
        assertNothingHappened(before);
    }

    @Test
    @DisplayName("with the right token every matrix request reaches its route (so each refusal above was the token's)")
    void rightTokenReachesEveryRoute() {
        // last, on its own servers: these requests do change things
        try (GuardedFleet fresh = new GuardedFleet()) {
            fresh.fleet.deploy("a", SHOP, 8081);
            for (Map.Entry<String, Template> e : MATRIX.entrySet()) {
                Template t = e.getValue();
                String target = t.target().replace(g.existingId, fresh.existingId);
                String token = t.server().equals(CP) ? OPERATOR : AGENT;
                int port = t.server().equals(CP) ? fresh.cp.port() : fresh.agent.port();
                String method = e.getKey().split(" ")[t.server().equals(CP) ? 2 : 1];
                RawHttp.Reply r = RawHttp.send(port, method, target, t.body(), "Authorization: Bearer " + token);
                assertThat(r.status()).as(e.getKey() + " -> " + r.body()).isNotIn(401, 403, 500);
                if (r.isProblem()) {
                    assertThat(r.json().path("type").asText()).as(e.getKey()).isNotEqualTo("urn:fleet:problem:no-such-route");
                }
            }
            assertThat(fresh.cp.store().list()).as("the create went through").hasSize(2);
            assertThat(fresh.agentCalls()).as("the agents were reached").isNotEmpty();
        }
    }

    private int port(Template t) {
        return t.server().equals(CP) ? g.cp.port() : g.agent.port();
    }

    private RawHttp.Reply send(Template t, String method, String target, String... headers) {
        return RawHttp.send(port(t), method, target, t.body(), headers);
    }

    private void assertNothingHappened(String before) {
        assertThat(g.state()).as("store and nodes unchanged").isEqualTo(before);
        assertThat(g.agentCalls()).as("no agent was called").isEmpty();
        assertThat(g.processes.spawned()).as("no external process was started").isEmpty();
    }
}
