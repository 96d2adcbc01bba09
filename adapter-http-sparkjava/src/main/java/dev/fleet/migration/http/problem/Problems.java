package dev.fleet.migration.http.problem;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.ActiveMigrationExistsException;
import dev.fleet.migration.core.FencedException;
import dev.fleet.migration.core.MigrationException;
import dev.fleet.migration.core.MigrationNotFoundException;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.NodeUnavailableException;
import dev.fleet.migration.core.StaleVersionException;
import dev.fleet.migration.core.TerminalMigrationException;
import dev.fleet.migration.core.UnknownNodeException;
import dev.fleet.migration.http.wire.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Response;

/**
 * Every error answer of both APIs, as RFC 9457 {@code application/problem+json}: {@code type},
 * {@code title}, {@code status}, and {@code detail} (the exception's precise message). The
 * mapping from the library's exception kinds to statuses lives here and only here.
 */
public final class Problems {
    public static final String CONTENT_TYPE = "application/problem+json";
    public static final String TYPE_PREFIX = "urn:fleet:problem:";

    /** Problem types the agent client reads back into exceptions. */
    public static final String FENCED = TYPE_PREFIX + "fenced";
    public static final String NODE_OPERATION_FAILED = TYPE_PREFIX + "node-operation-failed";
    public static final String NODE_UNAVAILABLE = TYPE_PREFIX + "node-unavailable";
    public static final String OPERATION_NOT_FOUND = TYPE_PREFIX + "operation-not-found";

    private static final Logger log = LoggerFactory.getLogger(Problems.class);

    private Problems() {}

    public static ObjectNode problem(int status, String type, String title, String detail) {
        ObjectNode p = Json.object();
        p.put("type", type);
        p.put("title", title);
        p.put("status", status);
        p.put("detail", detail);
        return p;
    }

    /** Writes the problem to the response. */
    public static void send(Response res, ObjectNode problem) {
        res.status(problem.get("status").asInt());
        res.type(CONTENT_TYPE);
        res.body(Json.write(problem));
    }

    public static ObjectNode of(RequestException e) {
        return problem(e.status(), e.type(), e.title(), e.getMessage());
    }

    /** The problem for a library exception: its kind decides the status, its class the type. */
    public static ObjectNode of(MigrationException e) {
        ObjectNode p = switch (e.kind()) {
            case INVALID_INPUT -> e instanceof UnknownNodeException
                    ? problem(400, TYPE_PREFIX + "unknown-node", "Unknown node", e.getMessage())
                    : problem(400, TYPE_PREFIX + "invalid-input", "Invalid input", e.getMessage());
            case NOT_FOUND -> problem(404, TYPE_PREFIX + (e instanceof MigrationNotFoundException
                    ? "migration-not-found" : "not-found"), "Not found", e.getMessage());
            case CONFLICT -> {
                String slug = e instanceof ActiveMigrationExistsException ? "active-migration-exists"
                        : e instanceof TerminalMigrationException ? "migration-terminal"
                        : e instanceof StaleVersionException ? "stale-version" : "conflict";
                yield problem(409, TYPE_PREFIX + slug, "Conflict", e.getMessage());
            }
            case FENCED -> problem(409, FENCED, "Fenced", e.getMessage());
            case UNAVAILABLE -> problem(503, e instanceof NodeUnavailableException ? NODE_UNAVAILABLE
                    : TYPE_PREFIX + "unavailable", "Service unavailable", e.getMessage());
            case FAILED -> e instanceof NodeOperationException
                    ? problem(502, NODE_OPERATION_FAILED, "Node operation failed", e.getMessage())
                    : problem(500, TYPE_PREFIX + "failed", "Internal failure", e.getMessage());
        };
        if (e instanceof FencedException f) {
            p.put("app", f.app().id());
            p.put("epoch", f.epoch());
            p.put("highestSeen", f.highestSeen());
        }
        if (e instanceof ActiveMigrationExistsException a) {
            p.put("existing", a.existing().value());
        }
        return p;
    }

    /** Anything unexpected: 500, with the class and message (never a stack trace) as the detail. */
    public static ObjectNode unexpected(Exception e) {
        log.error("unexpected error while serving a request", e);
        return problem(500, TYPE_PREFIX + "internal", "Internal server error",
                "internal error: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    }
}
