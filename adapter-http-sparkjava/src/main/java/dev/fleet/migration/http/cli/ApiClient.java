package dev.fleet.migration.http.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.http.wire.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** The CLI's client of the control-plane API; turns every error into a {@link CliException} with its exit code. */
final class ApiClient {
    private final String base;
    private final String token;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ApiClient(String base, String token) {
        if (base == null || base.isBlank()) {
            throw new CliException(FleetCli.EXIT_USAGE, "no control plane URL: pass --url or set FLEET_URL");
        }
        if (token == null || token.isBlank()) {
            throw new CliException(FleetCli.EXIT_UNREACHABLE, "no operator token: pass --token or set FLEET_TOKEN");
        }
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        this.token = token;
    }

    JsonNode get(String path) {
        return send("GET", path, null).json();
    }

    /** A GET whose answer's headers matter too (the listing's X-Total-Count). */
    Reply getWithHeaders(String path) {
        return send("GET", path, null);
    }

    /** A successful answer: its JSON body and its headers. */
    record Reply(JsonNode json, java.net.http.HttpHeaders headers) {}

    JsonNode post(String path, ObjectNode body) {
        return send("POST", path, body).json();
    }

    private Reply send(String method, String path, ObjectNode body) {
        URI uri;
        try {
            uri = URI.create(base + path);
        } catch (IllegalArgumentException e) {
            throw new CliException(FleetCli.EXIT_USAGE, "bad control plane URL '" + base + "': " + e.getMessage());
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token).header("Accept", "application/json");
        if (body != null) {
            b.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(Json.write(body), StandardCharsets.UTF_8));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> r;
        try {
            r = client.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (HttpTimeoutException e) {
            throw new CliException(FleetCli.EXIT_UNREACHABLE, "the control plane at " + base + " did not answer in time");
        } catch (IOException e) {
            throw new CliException(FleetCli.EXIT_UNREACHABLE, "cannot reach the control plane at " + base + ": "
                    + (e instanceof java.net.ConnectException ? "connection refused"
                    : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(FleetCli.EXIT_UNREACHABLE, "interrupted");
        }
        int status = r.statusCode();
        JsonNode json;
        try {
            json = Json.parse(r.body());
        } catch (IllegalArgumentException e) {
            json = null;
        }
        if (status >= 200 && status < 300 && json != null) {
            return new Reply(json, r.headers());
        }
        String detail = json != null && json.hasNonNull("detail") ? json.get("detail").asText()
                : "HTTP " + status + " from " + uri;
        int code = switch (status) {
            case 400, 422 -> FleetCli.EXIT_USAGE;
            case 404 -> FleetCli.EXIT_NOT_FOUND;
            case 409 -> FleetCli.EXIT_CONFLICT;
            default -> FleetCli.EXIT_UNREACHABLE;
        };
        throw new CliException(code, detail);
    }
}
