package dev.fleet.migration.docker.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.dockerjava.transport.DockerHttpClient;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.NodeUnavailableException;
import dev.fleet.migration.docker.archive.Manifest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Docker engine API as this module uses it, over docker-java's transport. JSON stays JSON
 * ({@link JsonNode}), so a container's full {@code docker inspect} travels in the manifest and
 * comes back as a create request without a field lost in a model class.
 *
 * <p>Thread-safe: the transport pools connections.
 */
public final class Engine {

    /** The engine answered with an error status. */
    public static final class EngineException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;

        EngineException(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final DockerHttpClient http;
    private final NodeId node;

    public Engine(DockerHttpClient http, NodeId node) {
        this.http = http;
        this.node = node;
    }

    public static String q(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** {@code filters={"label":[...]}}, URL-encoded. */
    public static String labelFilter(String... labels) {
        ObjectNode f = Manifest.JSON.createObjectNode();
        var arr = f.putArray("label");
        for (String l : labels) {
            arr.add(l);
        }
        return "filters=" + q(f.toString());
    }

    /** GET returning JSON, or null on 404. */
    public JsonNode get(String path) {
        return call("GET", path, null, true);
    }

    public JsonNode post(String path, JsonNode body) {
        return call("POST", path, body == null ? null : body.toString().getBytes(StandardCharsets.UTF_8), false);
    }

    /** POST that tolerates 304 (already started / stopped). */
    public void postIgnoringNotModified(String path) {
        call("POST", path, null, false);
    }

    /** DELETE; 404 is fine (already gone). */
    public void delete(String path) {
        call("DELETE", path, null, true);
    }

    public List<JsonNode> list(String path) {
        JsonNode n = get(path);
        List<JsonNode> out = new ArrayList<>();
        if (n != null && n.isArray()) {
            n.forEach(out::add);
        }
        return out;
    }

    /** Streams a GET response body (an image tar) into {@code out}. */
    public void download(String path, OutputStream out) throws IOException {
        DockerHttpClient.Request r = DockerHttpClient.Request.builder().method(DockerHttpClient.Request.Method.GET)
                .path(path).build();
        try (DockerHttpClient.Response resp = execute(r)) {
            check(resp, path, false);
            resp.getBody().transferTo(out);
        }
    }

    /** Streams {@code body} as a POST (an image tar to load) and returns the response text. */
    public String upload(String path, InputStream body, String contentType) {
        DockerHttpClient.Request r = DockerHttpClient.Request.builder().method(DockerHttpClient.Request.Method.POST)
                .path(path).putHeader("Content-Type", contentType).body(body).build();
        try (DockerHttpClient.Response resp = execute(r)) {
            check(resp, path, false);
            return new String(resp.getBody().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new NodeUnavailableException(node, "docker engine: " + e.getMessage(), e);
        }
    }

    private JsonNode call(String method, String path, byte[] body, boolean nullOn404) {
        DockerHttpClient.Request.Builder b = DockerHttpClient.Request.builder().method(method).path(path);
        if (body != null) {
            b.putHeader("Content-Type", "application/json").bodyBytes(body);
        } else if (!method.equals("GET")) {
            b.putHeader("Content-Type", "application/json");
        }
        try (DockerHttpClient.Response resp = execute(b.build())) {
            int status = resp.getStatusCode();
            if (status == 404 && nullOn404) {
                resp.getBody().readAllBytes();
                return null;
            }
            check(resp, path, true);
            byte[] bytes = resp.getBody().readAllBytes();
            if (bytes.length == 0 || status == 204 || status == 304) {
                return null;
            }
            return Manifest.JSON.readTree(bytes);
        } catch (IOException e) {
            throw new NodeUnavailableException(node, "docker engine: " + e.getMessage(), e);
        }
    }

    private DockerHttpClient.Response execute(DockerHttpClient.Request r) {
        try {
            return http.execute(r);
        } catch (UncheckedIOException | IllegalStateException e) {
            throw new NodeUnavailableException(node, "docker engine unreachable: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (e.getCause() instanceof IOException) {
                throw new NodeUnavailableException(node, "docker engine unreachable: " + e.getMessage(), e);
            }
            throw e;
        }
    }

    private void check(DockerHttpClient.Response resp, String path, boolean allow304) throws IOException {
        int status = resp.getStatusCode();
        if (status < 300 || (allow304 && status == 304)) {
            return;
        }
        String text = new String(resp.getBody().readAllBytes(), StandardCharsets.UTF_8);
        String message = text;
        try {
            JsonNode n = Manifest.JSON.readTree(text);
            if (n != null && n.has("message")) {
                message = n.get("message").asText();
            }
        } catch (IOException notJson) {
            // keep the raw text
        }
        if (status >= 500 && message.contains("connect")) {
            throw new NodeUnavailableException(node, "docker engine: " + message);
        }
        throw new EngineException(status, "docker engine answered " + status + " to " + path.replaceAll("\\?.*", "")
                + ": " + message.strip());
    }

    /** Labels of a container or volume inspect, as a map. */
    public static Map<String, String> labels(JsonNode labels) {
        Map<String, String> out = new java.util.TreeMap<>();
        if (labels != null && labels.isObject()) {
            labels.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        }
        return out;
    }
}
