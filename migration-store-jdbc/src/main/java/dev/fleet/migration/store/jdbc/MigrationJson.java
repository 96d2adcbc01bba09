package dev.fleet.migration.store.jdbc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.Compensation;
import dev.fleet.migration.core.Failure;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.Progress;
import dev.fleet.migration.core.Span;
import dev.fleet.migration.core.spi.OperationKind;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A {@link Migration} as one JSON document, written field by field rather than by reflection:
 * the stored format is then a decision of this module, it cannot drift when a record component
 * is renamed in core, and a field added later gets an explicit default here. Instants and
 * durations travel as ISO-8601 text, which round-trips to the nanosecond.
 *
 * <p>Format 1 (the {@code "format"} member). Absent optionals are absent members, so a member
 * added later as an optional ({@code failing} was) reads as empty from older rows and needs no
 * new format; anything else that changes the meaning of a stored document raises the format.
 */
final class MigrationJson {
    static final int FORMAT = 1;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private MigrationJson() {}

    static String write(Migration m) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("format", FORMAT);
        o.put("id", m.id().value());
        o.put("app", m.app().id());
        o.put("source", m.source().value());
        o.put("target", m.target().value());
        o.put("state", m.state().name());
        o.put("version", m.version());
        o.put("epoch", m.epoch());
        o.put("createdAt", m.createdAt().toString());
        o.put("updatedAt", m.updatedAt().toString());
        o.set("steps", spans(m.steps()));
        o.set("operations", spans(m.operations()));
        ObjectNode p = o.putObject("progress");
        p.put("bytesDone", m.progress().bytesDone());
        p.put("bytesTotal", m.progress().bytesTotal());
        p.put("bytesPerSecond", m.progress().bytesPerSecond());
        m.archive().ifPresent(a -> {
            ObjectNode n = o.putObject("archive");
            n.put("path", a.path());
            n.put("size", a.size());
            n.put("sha256", a.sha256());
        });
        ObjectNode facts = o.putObject("facts");
        m.facts().forEach(facts::put);
        m.failing().ifPresent(f -> o.put("failing", f));
        m.failure().ifPresent(f -> {
            ObjectNode n = o.putObject("failure");
            n.put("reason", f.reason());
            n.put("failedIn", f.failedIn().name());
            ObjectNode c = n.putObject("compensation");
            c.put("outcome", f.compensation().outcome().name());
            ArrayNode actions = c.putArray("actions");
            f.compensation().actions().forEach(actions::add);
        });
        m.downtime().ifPresent(d -> o.put("downtime", d.toString()));
        m.detail().ifPresent(d -> o.put("detail", d));
        try {
            return MAPPER.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write migration " + m.id() + " as JSON", e);
        }
    }

    /**
     * Reads a document {@link #write} made.
     *
     * @throws IllegalArgumentException naming what is wrong when the text is not such a document
     *         (or the record it describes is invalid)
     */
    static Migration read(String json) {
        JsonNode o;
        try {
            o = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
        }
        if (o == null || !o.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        long format = longAt(o, "format");
        if (format != FORMAT) {
            throw new IllegalArgumentException("record format " + format + " is not known (this code reads "
                    + FORMAT + ")");
        }
        JsonNode p = object(o, "progress");
        Progress progress = new Progress(longAt(p, "bytesDone"), longAt(p, "bytesTotal"),
                doubleAt(p, "bytesPerSecond"));
        Optional<ArchiveInfo> archive = optionalObject(o, "archive")
                .map(a -> new ArchiveInfo(text(a, "path"), longAt(a, "size"), text(a, "sha256")));
        Map<String, String> facts = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : object(o, "facts").properties()) {
            facts.put(e.getKey(), textValue(e.getValue(), "facts." + e.getKey()));
        }
        Optional<Failure> failure = optionalObject(o, "failure").map(f -> {
            JsonNode c = object(f, "compensation");
            List<String> actions = new ArrayList<>();
            JsonNode list = c.get("actions");
            if (list == null || !list.isArray()) {
                throw new IllegalArgumentException("failure.compensation.actions must be an array");
            }
            list.forEach(a -> actions.add(textValue(a, "failure.compensation.actions[]")));
            return new Failure(text(f, "reason"), MigrationState.valueOf(text(f, "failedIn")),
                    new Compensation(Compensation.Outcome.valueOf(text(c, "outcome")), actions));
        });
        return new Migration(
                MigrationId.of(text(o, "id")),
                AppRef.parse(text(o, "app")),
                NodeId.of(text(o, "source")),
                NodeId.of(text(o, "target")),
                MigrationState.valueOf(text(o, "state")),
                longAt(o, "version"),
                longAt(o, "epoch"),
                Instant.parse(text(o, "createdAt")),
                Instant.parse(text(o, "updatedAt")),
                spans(object(o, "steps"), MigrationState.class, MigrationState::valueOf),
                spans(object(o, "operations"), OperationKind.class, OperationKind::valueOf),
                progress,
                archive,
                facts,
                optionalText(o, "failing"),
                failure,
                optionalText(o, "downtime").map(Duration::parse),
                optionalText(o, "detail"));
    }

    private static <K extends Enum<K>> ObjectNode spans(Map<K, Span> spans) {
        ObjectNode n = MAPPER.createObjectNode();
        spans.forEach((k, s) -> {
            ObjectNode span = n.putObject(k.name());
            span.put("start", s.start().toString());
            s.end().ifPresent(e -> span.put("end", e.toString()));
        });
        return n;
    }

    private static <K extends Enum<K>> Map<K, Span> spans(JsonNode n, Class<K> type, Function<String, K> key) {
        Map<K, Span> spans = new EnumMap<>(type);
        for (Map.Entry<String, JsonNode> e : n.properties()) {
            JsonNode s = e.getValue();
            spans.put(key.apply(e.getKey()), new Span(Instant.parse(text(s, "start")),
                    optionalText(s, "end").map(Instant::parse)));
        }
        return spans;
    }

    private static JsonNode object(JsonNode o, String name) {
        JsonNode n = o.get(name);
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(name + " must be an object");
        }
        return n;
    }

    private static Optional<JsonNode> optionalObject(JsonNode o, String name) {
        JsonNode n = o.get(name);
        return n == null || n.isNull() ? Optional.empty() : Optional.of(object(o, name));
    }

    private static String text(JsonNode o, String name) {
        return textValue(o.get(name), name);
    }

    private static Optional<String> optionalText(JsonNode o, String name) {
        JsonNode n = o.get(name);
        return n == null || n.isNull() ? Optional.empty() : Optional.of(textValue(n, name));
    }

    private static String textValue(JsonNode n, String name) {
        if (n == null || !n.isTextual()) {
            throw new IllegalArgumentException(name + " must be a string");
        }
        return n.textValue();
    }

    private static long longAt(JsonNode o, String name) {
        JsonNode n = o.get(name);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
            throw new IllegalArgumentException(name + " must be a whole number");
        }
        return n.longValue();
    }

    private static double doubleAt(JsonNode o, String name) {
        JsonNode n = o.get(name);
        if (n != null && n.isNumber()) {
            return n.doubleValue();
        }
        if (n != null && n.isTextual()) {
            return Double.parseDouble(n.textValue()); // Jackson writes Infinity as a string
        }
        throw new IllegalArgumentException(name + " must be a number");
    }
}
