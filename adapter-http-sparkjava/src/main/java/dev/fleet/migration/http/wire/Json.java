package dev.fleet.migration.http.wire;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.fleet.migration.http.problem.RequestException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Set;

/**
 * The one {@link ObjectMapper} of the adapter, and the helpers that read request bodies strictly.
 * Wire forms are written field by field with the tree model (see {@link MigrationWire} and
 * {@link AgentWire}), so the core's records never need Jackson annotations or modules.
 */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Json() {}

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static ArrayNode array() {
        return MAPPER.createArrayNode();
    }

    public static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses any JSON text; throws {@link IllegalArgumentException} with the parser's message. */
    public static JsonNode parse(String text) {
        try {
            JsonNode n = MAPPER.readTree(text);
            return n == null ? MAPPER.missingNode() : n;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ")"), e);
        }
    }

    /**
     * Reads a request body that must be one JSON object with only the given fields.
     *
     * @param emptyAllowed whether an empty body counts as {@code {}}
     * @throws RequestException 400 malformed-json or invalid-body
     */
    public static ObjectNode body(String text, Set<String> allowed, boolean emptyAllowed) {
        if (text == null || text.isBlank()) {
            if (emptyAllowed) {
                return object();
            }
            throw RequestException.malformed("the request body is empty; expected a JSON object with fields "
                    + String.join(", ", allowed));
        }
        JsonNode n;
        try {
            n = parse(text);
        } catch (IllegalArgumentException e) {
            throw RequestException.malformed("the request body is not valid JSON: " + e.getMessage());
        }
        if (!n.isObject()) {
            throw RequestException.malformed("the request body must be a JSON object, but was "
                    + kind(n));
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw RequestException.invalidBody("unknown field '" + f + "' in the request body; expected only "
                        + String.join(", ", allowed));
            }
        }
        return (ObjectNode) n;
    }

    /** A required string field. */
    public static String requiredString(ObjectNode body, String field, String what) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            throw RequestException.invalidBody("the request body is missing the field '" + field + "' (" + what + ")");
        }
        if (!v.isTextual()) {
            throw RequestException.invalidBody("the field '" + field + "' must be a string, but was " + kind(v));
        }
        return v.asText();
    }

    /** An optional string field; null when absent or null. */
    public static String optionalString(ObjectNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw RequestException.invalidBody("the field '" + field + "' must be a string, but was " + kind(v));
        }
        return v.asText();
    }

    static String kind(JsonNode n) {
        if (n.isObject()) return "an object";
        if (n.isArray()) return "an array";
        if (n.isNumber()) return "a number";
        if (n.isBoolean()) return "a boolean";
        if (n.isNull()) return "null";
        if (n.isTextual()) return "a string";
        return "nothing";
    }
}
