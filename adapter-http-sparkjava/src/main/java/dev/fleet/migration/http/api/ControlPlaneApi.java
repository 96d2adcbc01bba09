package dev.fleet.migration.http.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationException;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.Names;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.http.problem.Problems;
import dev.fleet.migration.http.problem.RequestException;
import dev.fleet.migration.http.security.BearerAuth;
import dev.fleet.migration.http.wire.Json;
import dev.fleet.migration.http.wire.MigrationWire;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * The control-plane API, the Control Panel's static files, {@code /metrics} and
 * {@code /api/openapi.json}, registered on one {@link Service}.
 *
 * <p>Every route under {@code /api} and {@code /metrics} needs the operators' bearer token; the
 * Control Panel's files do not (they hold no data: the page asks for the token and sends it with
 * each call). Every error is {@code application/problem+json}.
 */
public final class ControlPlaneApi {
    private static final String UI = "/dev/fleet/migration/http/ui/";
    private static final Set<String> CREATE_FIELDS = Set.of("app", "source", "target", "replayOf");
    private static final Set<String> FAIL_FIELDS = Set.of("reason");

    private final Orchestrator orchestrator;
    private final BearerAuth auth;
    private final Map<NodeId, String> agentUrls;
    private final Supplier<String> metrics;
    private final MigrationListing listing;
    private Routes routes;

    /**
     * @param agentUrls where each node's agent listens, shown by {@code GET /api/nodes}; a node
     *                  missing here is an in-process agent
     * @param metrics   the Prometheus text, or null for no {@code /metrics}
     */
    public ControlPlaneApi(Orchestrator orchestrator, BearerAuth auth, Map<NodeId, String> agentUrls,
                           Supplier<String> metrics) {
        this.orchestrator = Objects.requireNonNull(orchestrator, "orchestrator");
        this.auth = Objects.requireNonNull(auth, "auth");
        this.agentUrls = Map.copyOf(agentUrls);
        this.metrics = metrics;
        this.listing = new MigrationListing(this.orchestrator);
    }

    /** Registers everything on {@code http}; returns the registry of API routes. */
    public Routes register(Service http) {
        routes = new Routes(http);
        http.before((req, res) -> {
            if (!isControlPanelFile(req.uri())) {
                auth.check(req.headers("Authorization"));
            }
        });
        installErrorHandling(http);

        routes.post("/api/migrations", this::create);
        routes.get("/api/migrations", this::list);
        routes.get("/api/migrations/:id", (req, res) -> json(res, MigrationWire.toJson(orchestrator.get(id(req)))));
        routes.post("/api/migrations/:id/advance", (req, res) -> {
            Json.body(req.body(), Set.of(), true);
            return json(res, MigrationWire.toJson(orchestrator.advance(id(req))));
        });
        routes.post("/api/migrations/:id/fail", this::fail);
        routes.get("/api/migrations/:id/history", (req, res) ->
                json(res, MigrationWire.toJson(orchestrator.history(id(req)))));
        routes.get("/api/nodes", this::nodes);
        routes.get("/api/openapi.json", (req, res) -> {
            res.type("application/json");
            return resource("/dev/fleet/migration/http/openapi.json");
        });
        if (metrics != null) {
            routes.get("/metrics", (req, res) -> {
                res.type("text/plain; version=0.0.4; charset=utf-8");
                return metrics.get();
            });
        }
        // the Control Panel
        http.get("/", (req, res) -> file(res, "index.html", "text/html; charset=utf-8"));
        http.get("/assets/app.js", (req, res) -> file(res, "app.js", "text/javascript; charset=utf-8"));
        http.get("/assets/app.css", (req, res) -> file(res, "app.css", "text/css; charset=utf-8"));
        return routes;
    }

    public Routes routes() {
        return routes;
    }

    /**
     * Whether a request needs no token: only the Control Panel's page and its {@code /assets/}.
     * Decided on the raw request URI, the string Spark's router matches (it skips empty segments
     * and does not decode): a check on the decoded, normalised path let {@code //api/migrations}
     * reach its route without a token.
     */
    static boolean isControlPanelFile(String rawUri) {
        String path = rawUri == null ? "" : rawUri.replaceAll("/{2,}", "/");
        return path.equals("/") || path.startsWith("/assets/");
    }

    /** Problem answers for every error, including unknown routes. */
    public static void installErrorHandling(Service http) {
        http.exception(RequestException.class, (e, req, res) -> {
            if (e.status() == 401) { // RFC 9110: a 401 says which scheme would be accepted
                res.header("WWW-Authenticate", "Bearer realm=\"fleet\"");
            }
            Problems.send(res, Problems.of(e));
        });
        http.exception(MigrationException.class, (e, req, res) -> Problems.send(res, Problems.of(e)));
        http.exception(Exception.class, (e, req, res) -> Problems.send(res, Problems.unexpected(e)));
        // Spark decodes path parameters before the route runs: bytes that are not UTF-8 are bad input, not a 500
        http.exception(org.eclipse.jetty.util.Utf8Appendable.NotUtf8Exception.class, (e, req, res) ->
                Problems.send(res, Problems.of(RequestException.badPath("the request path " + Names.quote(req.uri())
                        + " holds percent-encoded bytes that are not UTF-8"))));
        http.notFound((req, res) -> {
            res.type(Problems.CONTENT_TYPE);
            return Json.write(Problems.of(RequestException.notFound("no route for " + req.requestMethod() + " "
                    + req.pathInfo())));
        });
    }

    private Object create(Request req, Response res) {
        ObjectNode body = Json.body(req.body(), CREATE_FIELDS, false);
        String replayOf = Json.optionalString(body, "replayOf");
        String app = replayOf == null
                ? Json.requiredString(body, "app", "the app id: a container name or compose:<project>")
                : Json.optionalString(body, "app");
        String source = Json.requiredString(body, "source", "the source node id");
        String target = Json.requiredString(body, "target", "the target node id");
        if (app != null) {
            AppRef.parse(app); // the app is checked first, then each node under the name of its own field
        }
        Names.require("source", source, Names.NODE_ID, 63);
        Names.require("target", target, Names.NODE_ID, 63);
        Migration m;
        if (replayOf == null) {
            m = orchestrator.create(app, source, target);
        } else {
            Names.require("replayOf", replayOf, Names.MIGRATION_ID, 64);
            Migration kept = orchestrator.get(MigrationId.of(replayOf));
            if (app != null && !AppRef.parse(app).equals(kept.app())) {
                throw new InvalidInputException("app", app, "must be the replayed migration's app '" + kept.app()
                        + "' (or left out)");
            }
            m = orchestrator.replay(replayOf, source, target);
        }
        res.status(201);
        res.header("Location", "/api/migrations/" + m.id().value());
        return json(res, MigrationWire.toJson(m));
    }

    /** One page, filtered, with its total and links: see {@link MigrationListing}. */
    private Object list(Request req, Response res) {
        return listing.answer(req, res);
    }

    private Object fail(Request req, Response res) {
        MigrationId id = id(req);
        ObjectNode body = Json.body(req.body(), FAIL_FIELDS, true);
        String reason = Json.optionalString(body, "reason");
        return json(res, MigrationWire.toJson(orchestrator.fail(id, reason)));
    }

    private Object nodes(Request req, Response res) {
        ArrayNode a = Json.array();
        for (NodeId n : orchestrator.nodes()) {
            a.add(MigrationWire.node(n, agentUrls.get(n)));
        }
        return json(res, a);
    }

    private static MigrationId id(Request req) {
        return MigrationId.of(req.params(":id"));
    }

    private static String json(Response res, com.fasterxml.jackson.databind.JsonNode body) {
        res.type("application/json");
        return Json.write(body);
    }

    private static String file(Response res, String name, String type) {
        res.type(type);
        res.header("Cache-Control", "no-cache");
        return resource(UI + name);
    }

    static String resource(String path) {
        try (InputStream in = ControlPlaneApi.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("resource " + path + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
