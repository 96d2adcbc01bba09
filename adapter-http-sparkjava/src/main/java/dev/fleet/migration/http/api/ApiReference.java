package dev.fleet.migration.http.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Renders the OpenAPI document the control plane serves ({@code /api/openapi.json}) as the
 * Markdown API reference in {@code docs/api-reference.md}, so the reference cannot drift from
 * the document the routes are checked against. {@code ApiReferenceTest} fails when the file in
 * {@code docs/} differs from what this renders; {@code main} rewrites it.
 */
public final class ApiReference {
    /** Where the OpenAPI document lives on the classpath. */
    public static final String OPENAPI_RESOURCE = "/dev/fleet/migration/http/openapi.json";

    private static final List<String> METHODS = List.of("get", "post", "put", "patch", "delete");

    private ApiReference() {}

    /** The OpenAPI document as shipped in the jar. */
    public static JsonNode openApi() {
        try (InputStream in = ApiReference.class.getResourceAsStream(OPENAPI_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("no " + OPENAPI_RESOURCE + " on the classpath");
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The Markdown reference for {@code doc}. */
    public static String render(JsonNode doc) {
        StringBuilder md = new StringBuilder();
        JsonNode info = doc.path("info");
        md.append("# API reference\n\n");
        md.append("<!-- Generated from adapter-http-sparkjava/src/main/resources")
                .append(OPENAPI_RESOURCE)
                .append(" by ApiReference; do not edit by hand. Regenerate: bash scripts/api-reference.sh -->\n\n");
        md.append(info.path("title").asText()).append(' ').append(info.path("version").asText())
                .append(". ").append(info.path("description").asText()).append("\n\n");
        md.append("The document itself is served at `GET /api/openapi.json`.\n\n");

        md.append("## Endpoints\n\n");
        md.append("| method | path | token | summary |\n|---|---|---|---|\n");
        forEachOperation(doc, (path, method, op) -> md.append("| ").append(method.toUpperCase())
                .append(" | `").append(path).append("` | ").append(security(doc, op))
                .append(" | ").append(cell(op.path("summary").asText())).append(" |\n"));
        md.append('\n');

        forEachOperation(doc, (path, method, op) -> {
            md.append("### ").append(method.toUpperCase()).append(' ').append(path).append("\n\n");
            md.append(op.path("summary").asText()).append(".");
            if (op.hasNonNull("description")) {
                md.append(' ').append(op.path("description").asText());
            }
            md.append("\n\n");
            md.append("Token: ").append(security(doc, op)).append(".\n\n");
            JsonNode params = op.path("parameters");
            if (params.size() > 0) {
                md.append("| parameter | in | required | type | description |\n|---|---|---|---|---|\n");
                for (JsonNode p : params) {
                    md.append("| `").append(p.path("name").asText()).append("` | ")
                            .append(p.path("in").asText()).append(" | ")
                            .append(p.path("required").asBoolean(false) ? "yes" : "no").append(" | ")
                            .append(type(p.path("schema"))).append(" | ")
                            .append(cell(p.path("description").asText(""))).append(" |\n");
                }
                md.append('\n');
            }
            JsonNode body = op.path("requestBody");
            if (!body.isMissingNode()) {
                md.append("Request body");
                md.append(body.path("required").asBoolean(false) ? " (required)" : " (optional)");
                md.append(": ").append(contentTypes(body.path("content"))).append(".\n\n");
            }
            md.append("| status | meaning | body |\n|---|---|---|\n");
            Iterator<Map.Entry<String, JsonNode>> responses = op.path("responses").fields();
            List<Map.Entry<String, JsonNode>> sorted = new ArrayList<>();
            responses.forEachRemaining(sorted::add);
            sorted.sort(Map.Entry.comparingByKey());
            for (Map.Entry<String, JsonNode> r : sorted) {
                md.append("| ").append(r.getKey()).append(" | ")
                        .append(cell(r.getValue().path("description").asText())).append(" | ")
                        .append(contentTypes(r.getValue().path("content"))).append(" |\n");
            }
            md.append('\n');
        });

        md.append("## Schemas\n\n");
        Iterator<Map.Entry<String, JsonNode>> schemas = doc.path("components").path("schemas").fields();
        while (schemas.hasNext()) {
            Map.Entry<String, JsonNode> s = schemas.next();
            md.append("### ").append(s.getKey()).append("\n\n");
            JsonNode schema = s.getValue();
            if (schema.hasNonNull("description")) {
                md.append(schema.path("description").asText()).append("\n\n");
            }
            JsonNode props = schema.path("properties");
            if (props.size() == 0) {
                md.append("Type: ").append(type(schema)).append(".\n\n");
                continue;
            }
            List<String> required = new ArrayList<>();
            schema.path("required").forEach(n -> required.add(n.asText()));
            md.append("| field | type | required | description |\n|---|---|---|---|\n");
            Iterator<Map.Entry<String, JsonNode>> fields = props.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                md.append("| `").append(f.getKey()).append("` | ").append(type(f.getValue())).append(" | ")
                        .append(required.contains(f.getKey()) ? "yes" : "no").append(" | ")
                        .append(cell(f.getValue().path("description").asText(""))).append(" |\n");
            }
            if (schema.path("additionalProperties").isBoolean() && !schema.path("additionalProperties").asBoolean()) {
                md.append("\nUnknown fields are refused (400).\n");
            }
            md.append('\n');
        }
        return md.toString();
    }

    private interface OperationVisitor {
        void visit(String path, String method, JsonNode operation);
    }

    private static void forEachOperation(JsonNode doc, OperationVisitor visitor) {
        Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields();
        while (paths.hasNext()) {
            Map.Entry<String, JsonNode> p = paths.next();
            for (String method : METHODS) {
                if (p.getValue().has(method)) {
                    visitor.visit(p.getKey(), method, p.getValue().get(method));
                }
            }
        }
    }

    private static String security(JsonNode doc, JsonNode op) {
        JsonNode security = op.has("security") ? op.get("security") : doc.path("security");
        if (security.isMissingNode() || security.size() == 0) {
            return "none";
        }
        List<String> names = new ArrayList<>();
        for (JsonNode requirement : security) {
            requirement.fieldNames().forEachRemaining(names::add);
        }
        return names.isEmpty() ? "none" : String.join(" or ", names);
    }

    private static String contentTypes(JsonNode content) {
        if (content.isMissingNode() || content.size() == 0) {
            return "—";
        }
        List<String> parts = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> it = content.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> c = it.next();
            parts.add("`" + c.getKey() + "` " + type(c.getValue().path("schema")));
        }
        return String.join(", ", parts);
    }

    private static String type(JsonNode schema) {
        if (schema.isMissingNode()) {
            return "—";
        }
        if (schema.has("$ref")) {
            String ref = schema.get("$ref").asText();
            String name = ref.substring(ref.lastIndexOf('/') + 1);
            return "[" + name + "](#" + name.toLowerCase() + ")";
        }
        String type = schema.path("type").asText("object");
        if ("array".equals(type)) {
            return "array of " + type(schema.path("items"));
        }
        StringBuilder sb = new StringBuilder(type);
        if (schema.has("format")) {
            sb.append(" (").append(schema.get("format").asText()).append(')');
        }
        if (schema.has("enum")) {
            List<String> values = new ArrayList<>();
            schema.get("enum").forEach(v -> values.add("`" + v.asText() + "`"));
            sb.append(": ").append(String.join(", ", values));
        }
        if (schema.has("maxLength")) {
            sb.append(", at most ").append(schema.get("maxLength").asInt()).append(" characters");
        }
        if (schema.path("nullable").asBoolean(false)) {
            sb.append(", nullable");
        }
        return sb.toString();
    }

    private static String cell(String text) {
        return text.replace("|", "\\|").replace("\n", " ");
    }

    /** Writes the reference to the file named by the first argument (default docs/api-reference.md). */
    public static void main(String[] args) throws IOException {
        Path out = Path.of(args.length > 0 ? args[0] : "docs/api-reference.md");
        Files.writeString(out, render(openApi()), StandardCharsets.UTF_8);
        System.out.println("written: " + out);
    }
}
