package dev.fleet.migration.http.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.Names;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.Progress;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.NodeInventory;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.core.spi.OperationStatus;
import dev.fleet.migration.core.spi.PreflightReport;
import dev.fleet.migration.core.spi.PreflightRequest;
import dev.fleet.migration.core.spi.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The node-agent API's wire forms, both ways: the server reads what the client writes with the
 * same code, so the two can never drift. Reading validates through the core records'
 * constructors, which throw {@link InvalidInputException} naming the field.
 */
public final class AgentWire {
    private AgentWire() {}

    // ------------------------------------------------------------------ operation requests

    public static ObjectNode request(OperationRequest r) {
        ObjectNode o = Json.object();
        o.put("migration", r.key().migration().value());
        o.put("operation", r.kind().wireName());
        o.put("epoch", r.key().epoch());
        o.put("app", r.app().id());
        o.put("source", r.source().value());
        o.put("target", r.target().value());
        if (r.archive().isPresent()) {
            o.set("archive", MigrationWire.archive(r.archive().get()));
        }
        o.put("deadlineMs", r.deadline().toMillis());
        return o;
    }

    /** Reads a request; {@code kind} is what the route says, and must agree with the body when it has one. */
    public static OperationRequest request(JsonNode o, OperationKind kind) {
        String op = optText(o, "operation");
        if (op != null && OperationKind.fromWireName(op) != kind) {
            throw new InvalidInputException("operation", op, "must be " + kind.wireName() + " on this route");
        }
        OperationKey key = new OperationKey(MigrationId.of(text(o, "migration")), kind, number(o, "epoch"));
        return new OperationRequest(key, AppRef.parse(text(o, "app")), node(o, "source"),
                node(o, "target"), archive(o.get("archive")),
                Duration.ofMillis(Math.max(1, number(o, "deadlineMs"))));
    }

    // ------------------------------------------------------------------ statuses

    public static ObjectNode status(OperationStatus s) {
        ObjectNode o = Json.object();
        o.put("migration", s.key().migration().value());
        o.put("operation", s.key().kind().wireName());
        o.put("epoch", s.key().epoch());
        o.put("phase", s.phase().name().toLowerCase(java.util.Locale.ROOT));
        o.set("progress", MigrationWire.progress(s.progress()));
        if (s.archive().isPresent()) {
            o.set("archive", MigrationWire.archive(s.archive().get()));
        }
        ObjectNode facts = o.putObject("facts");
        s.facts().forEach(facts::put);
        o.put("error", s.error().orElse(null));
        return o;
    }

    public static OperationStatus status(JsonNode o) {
        OperationKey key = new OperationKey(MigrationId.of(text(o, "migration")),
                OperationKind.fromWireName(text(o, "operation")), number(o, "epoch"));
        String phase = text(o, "phase");
        OperationStatus.Phase p;
        try {
            p = OperationStatus.Phase.valueOf(phase.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("phase", phase, "must be one of running, succeeded, failed");
        }
        JsonNode pr = o.get("progress");
        Progress progress = pr == null || pr.isNull() ? Progress.NONE
                : new Progress(pr.path("bytesDone").asLong(), pr.path("bytesTotal").asLong(),
                pr.path("bytesPerSecond").asDouble());
        return new OperationStatus(key, p, progress, archive(o.get("archive")), strings(o.get("facts")),
                Optional.ofNullable(optText(o, "error")));
    }

    // ------------------------------------------------------------------ preflight

    public static ObjectNode preflight(PreflightRequest r) {
        ObjectNode o = Json.object();
        o.put("migration", r.migration().value());
        o.put("epoch", r.epoch());
        o.put("app", r.app().id());
        o.put("role", r.role().name().toLowerCase(java.util.Locale.ROOT));
        o.put("source", r.source().value());
        o.put("target", r.target().value());
        o.put("expectedBytes", r.expectedBytes());
        return o;
    }

    public static PreflightRequest preflight(JsonNode o) {
        return new PreflightRequest(MigrationId.of(text(o, "migration")), number(o, "epoch"),
                AppRef.parse(text(o, "app")), role(text(o, "role")), node(o, "source"),
                node(o, "target"), o.path("expectedBytes").asLong(0));
    }

    public static ObjectNode report(PreflightReport r) {
        ObjectNode o = Json.object();
        o.put("passed", r.passed());
        ArrayNode problems = o.putArray("problems");
        r.problems().forEach(problems::add);
        o.put("estimatedBytes", r.estimatedBytes());
        ObjectNode facts = o.putObject("facts");
        r.facts().forEach(facts::put);
        return o;
    }

    public static PreflightReport report(JsonNode o) {
        return new PreflightReport(stringList(o.get("problems")), o.path("estimatedBytes").asLong(0),
                strings(o.get("facts")));
    }

    // ------------------------------------------------------------------ compensation

    public static ObjectNode compensation(CompensationRequest r) {
        ObjectNode o = Json.object();
        o.put("migration", r.migration().value());
        o.put("epoch", r.epoch());
        o.put("app", r.app().id());
        o.put("role", r.role().name().toLowerCase(java.util.Locale.ROOT));
        ArrayNode started = o.putArray("started");
        r.started().stream().sorted().forEach(k -> started.add(k.wireName()));
        return o;
    }

    public static CompensationRequest compensation(JsonNode o) {
        Set<OperationKind> started = EnumSet.noneOf(OperationKind.class);
        for (String s : stringList(o.get("started"))) {
            started.add(OperationKind.fromWireName(s));
        }
        return new CompensationRequest(MigrationId.of(text(o, "migration")), number(o, "epoch"),
                AppRef.parse(text(o, "app")), role(text(o, "role")), started);
    }

    public static ObjectNode actions(List<String> actions) {
        ObjectNode o = Json.object();
        ArrayNode a = o.putArray("actions");
        actions.forEach(a::add);
        return o;
    }

    public static List<String> actions(JsonNode o) {
        return stringList(o.get("actions"));
    }

    // ------------------------------------------------------------------ retention sweep

    public static ObjectNode sweep(java.time.Instant olderThan, Set<MigrationId> keep) {
        ObjectNode o = Json.object();
        o.put("olderThan", olderThan.toString());
        ArrayNode k = o.putArray("keep");
        keep.stream().sorted().forEach(m -> k.add(m.value()));
        return o;
    }

    /** The sweep request: when, and what to keep. */
    public record Sweep(java.time.Instant olderThan, Set<MigrationId> keep) {}

    public static Sweep sweep(JsonNode o) {
        String when = text(o, "olderThan");
        java.time.Instant olderThan;
        try {
            olderThan = java.time.Instant.parse(when);
        } catch (java.time.format.DateTimeParseException e) {
            throw new dev.fleet.migration.core.InvalidInputException("olderThan", when,
                    "must be an ISO-8601 instant such as 2026-01-31T12:00:00Z");
        }
        Set<MigrationId> keep = new java.util.TreeSet<>();
        for (String id : stringList(o.get("keep"))) {
            keep.add(MigrationId.of(id));
        }
        return new Sweep(olderThan, keep);
    }

    // ------------------------------------------------------------------ inventory

    public static ObjectNode inventory(NodeInventory inv) {
        ObjectNode o = Json.object();
        ArrayNode cs = o.putArray("containers");
        for (NodeInventory.Container c : inv.containers()) {
            ObjectNode co = cs.addObject();
            co.put("name", c.name());
            co.put("running", c.running());
            co.put("restartPolicy", c.restartPolicy());
            ObjectNode labels = co.putObject("labels");
            c.labels().forEach(labels::put);
        }
        ArrayNode vs = o.putArray("volumes");
        for (NodeInventory.Volume v : inv.volumes()) {
            ObjectNode vo = vs.addObject();
            vo.put("name", v.name());
            vo.put("fingerprint", v.fingerprint());
            ObjectNode labels = vo.putObject("labels");
            v.labels().forEach(labels::put);
        }
        return o;
    }

    public static NodeInventory inventory(JsonNode o) {
        List<NodeInventory.Container> cs = new ArrayList<>();
        for (JsonNode c : o.path("containers")) {
            cs.add(new NodeInventory.Container(text(c, "name"), c.path("running").asBoolean(),
                    text(c, "restartPolicy"), strings(c.get("labels"))));
        }
        List<NodeInventory.Volume> vs = new ArrayList<>();
        for (JsonNode v : o.path("volumes")) {
            vs.add(new NodeInventory.Volume(text(v, "name"), text(v, "fingerprint"), strings(v.get("labels"))));
        }
        return new NodeInventory(cs, vs);
    }

    // ------------------------------------------------------------------ pieces

    private static Optional<ArchiveInfo> archive(JsonNode a) {
        if (a == null || a.isNull() || a.isMissingNode()) {
            return Optional.empty();
        }
        return Optional.of(new ArchiveInfo(text(a, "path"), number(a, "size"), text(a, "sha256")));
    }

    /** A node id, refused under the name of its own field ("source must match ..."). */
    private static NodeId node(JsonNode o, String field) {
        return NodeId.of(Names.require(field, text(o, field), Names.NODE_ID, 63));
    }

    private static Role role(String s) {
        for (Role r : Role.values()) {
            if (r.name().equalsIgnoreCase(s)) {
                return r;
            }
        }
        throw new InvalidInputException("role", s, "must be source or target");
    }

    public static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            throw new InvalidInputException(field, null, "must be present");
        }
        if (!v.isTextual()) {
            throw new InvalidInputException(field, v.toString(), "must be a string");
        }
        return v.asText();
    }

    private static String optText(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    public static long number(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            throw new InvalidInputException(field, null, "must be present");
        }
        if (!v.canConvertToLong() || !v.isIntegralNumber()) {
            throw new InvalidInputException(field, v.toString(), "must be an integer");
        }
        return v.asLong();
    }

    private static Map<String, String> strings(JsonNode o) {
        Map<String, String> m = new LinkedHashMap<>();
        if (o != null && o.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                m.put(e.getKey(), e.getValue().asText());
            }
        }
        return m;
    }

    private static List<String> stringList(JsonNode a) {
        List<String> l = new ArrayList<>();
        if (a != null && a.isArray()) {
            a.forEach(n -> l.add(n.asText()));
        }
        return l;
    }
}
