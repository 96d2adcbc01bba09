package dev.fleet.migration.http.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.FencedException;
import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.MigrationException;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.core.spi.OperationStatus;
import dev.fleet.migration.http.api.ControlPlaneApi;
import dev.fleet.migration.http.api.HttpServers;
import dev.fleet.migration.http.api.Routes;
import dev.fleet.migration.http.problem.Problems;
import dev.fleet.migration.http.problem.RequestException;
import dev.fleet.migration.http.security.BearerAuth;
import dev.fleet.migration.http.security.TlsSettings;
import dev.fleet.migration.http.wire.AgentWire;
import dev.fleet.migration.http.wire.Json;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * The node-agent API over any {@link NodeAgent}: the Docker agent in production, a fake in
 * tests. Long operations answer at once ({@code 202 Accepted} with a {@code Location} to poll)
 * and are polled through {@code GET /api/agent/v1/operations/{migration}/{operation}?epoch=};
 * repeated calls are idempotent because the wrapped agent's journal is.
 *
 * <p>Every route but {@code /api/agent/v1/health} needs the control plane's bearer token; the
 * operators' token is refused with 403.
 */
public final class AgentServer implements AutoCloseable {
    public static final String PREFIX = "/api/agent/v1";

    private final NodeAgent agent;
    private final Service http;
    private final BearerAuth auth;
    private final String host;
    private final boolean secure;
    private Routes routes;

    private AgentServer(Builder b) {
        this.agent = Objects.requireNonNull(b.agent, "agent");
        this.auth = new BearerAuth("control plane", b.token, b.otherTokens);
        this.host = b.host;
        this.secure = b.tls.isPresent();
        this.http = HttpServers.create(b.host, b.port, b.tls, b.maxThreads);
    }

    public static Builder builder(NodeAgent agent) {
        return new Builder(agent);
    }

    /** Registers the routes and starts listening; returns this. */
    public AgentServer start() {
        routes = new Routes(http);
        http.before((req, res) -> {
            // the raw URI, as Spark's router matches it: the decoded, normalised path of
            // "/operations/../health" is ".../health", which let it reach the status route untokened
            if (!req.uri().equals(PREFIX + "/health")) {
                auth.check(req.headers("Authorization"));
            }
        });
        ControlPlaneApi.installErrorHandling(http);
        // a permanent refusal by the node is 422, not 5xx: clients treat 5xx as "try again"
        http.exception(NodeOperationException.class, (e, req, res) -> {
            ObjectNode p = Problems.problem(422, Problems.NODE_OPERATION_FAILED, "Node operation failed",
                    e.getMessage());
            p.put("node", e.node().value());
            p.put("operation", e.operation());
            String prefix = e.operation() + " on node " + e.node() + " failed: ";
            p.put("reason", e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length())
                    : e.getMessage());
            Problems.send(res, p);
        });
        http.exception(FencedException.class, (e, req, res) -> {
            ObjectNode p = Problems.of(e);
            p.put("node", agent.node().value());
            Problems.send(res, p);
        });

        routes.post(PREFIX + "/migration/snapshot", (req, res) -> submit(req, res, OperationKind.SNAPSHOT));
        routes.post(PREFIX + "/migration/transfer", (req, res) -> submit(req, res, OperationKind.TRANSFER));
        routes.post(PREFIX + "/migration/restore", (req, res) -> submit(req, res, OperationKind.RESTORE));
        routes.post(PREFIX + "/migration/cutover", this::cutover);
        routes.get(PREFIX + "/operations/:migration/:operation", this::status);
        routes.post(PREFIX + "/preflight", (req, res) ->
                json(res, AgentWire.report(agent.preflight(AgentWire.preflight(body(req))))));
        routes.post(PREFIX + "/compensate", (req, res) -> {
            List<String> actions = agent.compensate(AgentWire.compensation(body(req)));
            return json(res, AgentWire.actions(actions));
        });
        routes.get(PREFIX + "/inventory", (req, res) -> json(res, AgentWire.inventory(agent.inventory())));
        routes.post(PREFIX + "/archives/sweep", (req, res) -> {
            AgentWire.Sweep sweep = AgentWire.sweep(body(req));
            return json(res, AgentWire.actions(agent.sweepArchives(sweep.olderThan(), sweep.keep())));
        });
        routes.get(PREFIX + "/health", (req, res) -> {
            ObjectNode o = Json.object();
            o.put("status", "ok");
            o.put("node", agent.node().value());
            return json(res, o);
        });
        HttpServers.start(http, "agent of node " + agent.node());
        return this;
    }

    public int port() {
        return http.port();
    }

    /** The base URL clients use, e.g. {@code http://127.0.0.1:7001}. */
    public String url() {
        return (secure ? "https://" : "http://") + host + ":" + port();
    }

    public Routes routes() {
        return routes;
    }

    public NodeAgent agent() {
        return agent;
    }

    @Override
    public void close() {
        http.stop();
        http.awaitStop();
    }

    private Object submit(Request req, Response res, OperationKind kind) {
        return answer(res, agent.submit(AgentWire.request(body(req), kind)));
    }

    private Object cutover(Request req, Response res) {
        JsonNode body = body(req);
        JsonNode op = body.get("operation");
        if (op == null || !op.isTextual()) {
            throw RequestException.invalidBody("a cutover request names its operation: 'operation' must be one of"
                    + " stop-source, start-target, retire-source");
        }
        OperationKind kind = OperationKind.fromWireName(op.asText());
        if (kind.state() != dev.fleet.migration.core.MigrationState.CUTOVER || !kind.isNodeOperation()) {
            throw new InvalidInputException("operation", op.asText(),
                    "must be one of stop-source, start-target, retire-source on the cutover route");
        }
        return answer(res, agent.submit(AgentWire.request(body, kind)));
    }

    private Object status(Request req, Response res) {
        OperationKey key = new OperationKey(MigrationId.of(req.params(":migration")),
                OperationKind.fromWireName(req.params(":operation")), epoch(req.queryParams("epoch")));
        Optional<OperationStatus> s = agent.status(key);
        if (s.isEmpty()) {
            Problems.send(res, Problems.problem(404, Problems.OPERATION_NOT_FOUND, "Operation not found",
                    "node " + agent.node() + " has no record of operation " + key));
            return res.body();
        }
        return json(res, AgentWire.status(s.get()));
    }

    private Object answer(Response res, OperationStatus s) {
        if (s.phase() == OperationStatus.Phase.RUNNING) {
            res.status(202);
            res.header("Location", PREFIX + "/operations/" + s.key().migration().value() + "/"
                    + s.key().kind().wireName() + "?epoch=" + s.key().epoch());
        }
        return json(res, AgentWire.status(s));
    }

    private static long epoch(String value) {
        if (value == null || value.isEmpty()) {
            throw new InvalidInputException("epoch", null, "must be given as a query parameter");
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new InvalidInputException("epoch", value, "must be an integer");
        }
    }

    private static JsonNode body(Request req) {
        String text = req.body();
        if (text == null || text.isBlank()) {
            throw RequestException.malformed("the request body is empty; expected a JSON object");
        }
        try {
            JsonNode n = Json.parse(text);
            if (!n.isObject()) {
                throw RequestException.malformed("the request body must be a JSON object");
            }
            return n;
        } catch (IllegalArgumentException e) {
            throw RequestException.malformed("the request body is not valid JSON: " + e.getMessage());
        }
    }

    private static String json(Response res, JsonNode node) {
        res.type("application/json");
        return Json.write(node);
    }

    /** Builds an {@link AgentServer}. */
    public static final class Builder {
        private final NodeAgent agent;
        private String host = "127.0.0.1";
        private int port = 0;
        private String token;
        private Map<String, String> otherTokens = Map.of();
        private Optional<TlsSettings> tls = Optional.empty();
        private int maxThreads = 32;

        private Builder(NodeAgent agent) {
            this.agent = agent;
        }

        /** Where to listen; port 0 picks a free one. */
        public Builder listen(String host, int port) {
            this.host = host;
            this.port = port;
            return this;
        }

        /** The control plane's token, the only one accepted. */
        public Builder token(String token) {
            this.token = token;
            return this;
        }

        /** The operators' token, so that it is refused with 403 rather than 401. */
        public Builder operatorToken(String operatorToken) {
            this.otherTokens = operatorToken == null ? Map.of() : Map.of("operator", operatorToken);
            return this;
        }

        public Builder tls(TlsSettings tls) {
            this.tls = Optional.ofNullable(tls);
            return this;
        }

        public Builder maxThreads(int maxThreads) {
            this.maxThreads = maxThreads;
            return this;
        }

        public AgentServer build() {
            return new AgentServer(this);
        }
    }
}
