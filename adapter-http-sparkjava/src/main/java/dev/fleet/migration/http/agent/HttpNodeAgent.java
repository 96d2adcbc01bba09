package dev.fleet.migration.http.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.FencedException;
import dev.fleet.migration.core.MigrationException;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.NodeUnavailableException;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.core.spi.NodeInventory;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.core.spi.OperationStatus;
import dev.fleet.migration.core.spi.PreflightReport;
import dev.fleet.migration.core.spi.PreflightRequest;
import dev.fleet.migration.http.problem.Problems;
import dev.fleet.migration.http.security.TlsSettings;
import dev.fleet.migration.http.wire.AgentWire;
import dev.fleet.migration.http.wire.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link NodeAgent} that is the HTTP client of a remote {@link AgentServer}. It maps the
 * agent's answers back to the exceptions the SPI documents:
 * <ul>
 *   <li>connection refused, timeouts, 5xx, 401/403 (a token to fix), an unexpected 404 (a wrong
 *       agent URL) → {@link NodeUnavailableException}: the orchestrator retries, and the
 *       migration's detail says why;</li>
 *   <li>409 {@code fenced} → {@link FencedException} with the same epochs;</li>
 *   <li>422 {@code node-operation-failed} and any other 4xx → {@link NodeOperationException};</li>
 *   <li>404 {@code operation-not-found} from the status route → an empty status.</li>
 * </ul>
 * Thread-safe: {@link HttpClient} is.
 */
public final class HttpNodeAgent implements NodeAgent {
    private final NodeId node;
    private final URI base;
    private final String token;
    private final HttpClient client;
    private final Duration requestTimeout;

    private HttpNodeAgent(Builder b) {
        this.node = Objects.requireNonNull(b.node, "node");
        String url = Objects.requireNonNull(b.baseUrl, "baseUrl").toString();
        this.base = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        this.token = Objects.requireNonNull(b.token, "token");
        this.requestTimeout = b.requestTimeout;
        HttpClient.Builder hb = HttpClient.newBuilder().connectTimeout(b.connectTimeout)
                .version(HttpClient.Version.HTTP_1_1);
        if (b.tls != null) {
            hb.sslContext(b.tls.clientContext());
        }
        this.client = hb.build();
    }

    public static Builder builder(NodeId node, URI baseUrl) {
        return new Builder(node, baseUrl);
    }

    @Override
    public NodeId node() {
        return node;
    }

    public URI baseUrl() {
        return base;
    }

    @Override
    public PreflightReport preflight(PreflightRequest request) {
        return AgentWire.report(call("POST", "/preflight", AgentWire.preflight(request), "preflight").orElseThrow());
    }

    @Override
    public OperationStatus submit(OperationRequest request) {
        OperationKind kind = request.kind();
        String path = switch (kind) {
            case SNAPSHOT -> "/migration/snapshot";
            case TRANSFER -> "/migration/transfer";
            case RESTORE -> "/migration/restore";
            case STOP_SOURCE, START_TARGET, RETIRE_SOURCE -> "/migration/cutover";
            case SWITCH_ROUTE -> throw new IllegalArgumentException("switch-route is the router's, not a node's");
        };
        return AgentWire.status(call("POST", path, AgentWire.request(request), kind.wireName()).orElseThrow());
    }

    @Override
    public Optional<OperationStatus> status(OperationKey key) {
        try {
            return call("GET", "/operations/" + key.migration().value() + "/" + key.kind().wireName() + "?epoch="
                    + key.epoch(), null, key.kind().wireName()).map(AgentWire::status);
        } catch (NotFound e) {
            return Optional.empty();
        }
    }

    @Override
    public List<String> compensate(CompensationRequest request) {
        return AgentWire.actions(call("POST", "/compensate", AgentWire.compensation(request), "compensate")
                .orElseThrow());
    }

    @Override
    public List<String> sweepArchives(java.time.Instant olderThan, java.util.Set<dev.fleet.migration.core.MigrationId> keep) {
        return AgentWire.actions(call("POST", "/archives/sweep", AgentWire.sweep(olderThan, keep), "sweep")
                .orElseThrow());
    }

    @Override
    public NodeInventory inventory() {
        return AgentWire.inventory(call("GET", "/inventory", null, "inventory").orElseThrow());
    }

    /** Asks the agent's health route (no token); true when it answers 200 for this node. */
    public boolean healthy() {
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + AgentServer.PREFIX + "/health"))
                    .timeout(requestTimeout).GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && node.value().equals(Json.parse(r.body()).path("node").asText());
        } catch (IOException | RuntimeException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private Optional<JsonNode> call(String method, String path, JsonNode body, String operation) {
        URI uri = URI.create(base + AgentServer.PREFIX + path);
        HttpRequest.Builder rb = HttpRequest.newBuilder(uri).timeout(requestTimeout)
                .header("Authorization", "Bearer " + token)
                .header("Accept", "application/json");
        if (body != null) {
            rb.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(Json.write(body), StandardCharsets.UTF_8));
        } else {
            rb.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> r;
        try {
            r = client.send(rb.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (HttpTimeoutException e) {
            throw new NodeUnavailableException(node, "the agent at " + base + " did not answer " + operation
                    + " within " + requestTimeout.toMillis() + " ms", e);
        } catch (IOException e) {
            throw new NodeUnavailableException(node, "cannot reach the agent at " + base + " (" + operation + "): "
                    + (e instanceof java.net.ConnectException ? "connection refused"
                    : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NodeUnavailableException(node, "interrupted while calling " + operation, e);
        }
        int status = r.statusCode();
        if (status >= 200 && status < 300) {
            try {
                return Optional.of(Json.parse(r.body()));
            } catch (IllegalArgumentException e) {
                throw new NodeUnavailableException(node, "the agent at " + base + " answered " + operation
                        + " with a body that is not JSON: " + e.getMessage());
            }
        }
        throw toException(status, r.body(), operation, path);
    }

    private RuntimeException toException(int status, String body, String operation, String path) {
        JsonNode p;
        try {
            p = Json.parse(body);
        } catch (IllegalArgumentException e) {
            p = Json.object();
        }
        String type = p.path("type").asText("");
        String detail = p.path("detail").asText(body == null || body.isBlank() ? "(no detail)" : body);
        if (Problems.OPERATION_NOT_FOUND.equals(type) && path.startsWith("/operations/")) {
            return new NotFound();
        }
        if (Problems.FENCED.equals(type)) {
            try {
                return new FencedException(node, AppRef.parse(p.path("app").asText()), p.path("epoch").asLong(),
                        p.path("highestSeen").asLong());
            } catch (MigrationException e) {
                return new NodeOperationException(node, operation, "fenced: " + detail);
            }
        }
        if (Problems.NODE_OPERATION_FAILED.equals(type)) {
            return new NodeOperationException(node, p.path("operation").asText(operation),
                    p.path("reason").asText(detail));
        }
        if (status == 401 || status == 403) {
            return new NodeUnavailableException(node, "the agent at " + base + " refused the control plane's token ("
                    + status + "): " + detail);
        }
        if (status == 404) {
            return new NodeUnavailableException(node, "the agent at " + base + " has no route for " + operation
                    + " (404); is the agent URL right? " + detail);
        }
        if (status >= 500 || status == 429 || status == 408) {
            return new NodeUnavailableException(node, "the agent answered " + operation + " with " + status + ": "
                    + detail);
        }
        return new NodeOperationException(node, operation, "the agent refused the request (" + status + "): "
                + detail);
    }

    /** The status route's "no record of it"; turned into {@link Optional#empty()}. */
    private static final class NotFound extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotFound() {
            super(null, null, false, false);
        }
    }

    /** Builds an {@link HttpNodeAgent}. */
    public static final class Builder {
        private final NodeId node;
        private final URI baseUrl;
        private String token;
        private TlsSettings tls;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration requestTimeout = Duration.ofSeconds(30);

        private Builder(NodeId node, URI baseUrl) {
            this.node = node;
            this.baseUrl = baseUrl;
        }

        /** The control plane's token, which the agent accepts. */
        public Builder token(String token) {
            this.token = token;
            return this;
        }

        public Builder tls(TlsSettings tls) {
            this.tls = tls;
            return this;
        }

        public Builder connectTimeout(Duration d) {
            this.connectTimeout = d;
            return this;
        }

        public Builder requestTimeout(Duration d) {
            this.requestTimeout = d;
            return this;
        }

        public HttpNodeAgent build() {
            return new HttpNodeAgent(this);
        }
    }
}
