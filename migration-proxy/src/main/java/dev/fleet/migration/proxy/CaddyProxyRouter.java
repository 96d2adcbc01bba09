package dev.fleet.migration.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ConflictException;
import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.UnavailableException;
import dev.fleet.migration.core.spi.ProxyRouter;
import dev.fleet.migration.core.spi.Upstream;
import dev.fleet.migration.proxy.internal.Fnv1a32;
import dev.fleet.migration.proxy.internal.RouteNames;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A {@link ProxyRouter} on Caddy's admin API (Caddy 2.6 or later).
 *
 * <p>Each app has one route in the configured server's {@code routes}, identified by
 * {@code "@id": "fleet-<route-|compose-><name>"}, matching the app's host (from the host
 * mapper, by default {@code <name>.fleet.test}), with one {@code reverse_proxy} handler and
 * exactly one upstream. New routes go first in the list, so a catch-all route of the operator's
 * never shadows them.
 *
 * <p><b>Atomic switch.</b> A switch is one {@code PATCH /id/<route id>/handle/0/upstreams}:
 * Caddy swaps its whole config in one step, so a request is routed either to the old upstream or
 * to the new one, never to none or both. The handler's {@code load_balancing.try_duration} and
 * {@code try_interval} make Caddy retry a refused dial, so a request that arrives while the new
 * upstream is still starting waits (up to {@code try_duration}) and succeeds instead of failing.
 *
 * <p><b>Race-free expected check.</b> The router reads the server's {@code routes}, compares the
 * app's upstream with {@code expected}, and writes with {@code If-Match}: Caddy (since 2.6)
 * compares that ETag with its config under the same lock that applies the change, and answers
 * 412 when anything in {@code routes} changed in between; the router then reads again and decides
 * again (bounded retries). Caddy 2.6 sends the ETag only as an HTTP trailer, which
 * {@code java.net.http} cannot read, so the router computes it the way Caddy does
 * ({@code "<path> <FNV-1a 32 of the body>"}) when no {@code ETag} header is present. No local lock
 * is needed, and the check also holds against other processes writing to the same Caddy.
 *
 * <p>Thread-safe. An unreachable admin endpoint is an {@link UnavailableException} naming its
 * address; a refused change is a {@link ProxyException}.
 */
public final class CaddyProxyRouter implements ProxyRouter {
    private static final Pattern SERVER_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");
    private static final Pattern ADMIN_ADDRESS = Pattern.compile("[a-zA-Z0-9.-]+:[0-9]{1,5}|\\[[0-9a-fA-F:]+\\]:[0-9]{1,5}");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String admin;
    private final String routesPath;
    private final Function<AppRef, String> hostMapper;
    private final Duration tryDuration;
    private final Duration tryInterval;
    private final Duration requestTimeout;
    private final int maxAttempts;
    private final HttpClient http;

    private CaddyProxyRouter(Builder b) {
        this.admin = b.admin;
        this.routesPath = "/config/apps/http/servers/" + b.server + "/routes";
        this.hostMapper = b.hostMapper;
        this.tryDuration = b.tryDuration;
        this.tryInterval = b.tryInterval;
        this.requestTimeout = b.requestTimeout;
        this.maxAttempts = b.maxAttempts;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(b.requestTimeout)
                .build();
    }

    /** @param adminAddress {@code host:port} of Caddy's admin endpoint, e.g. {@code 127.0.0.1:2019} */
    public static Builder builder(String adminAddress) {
        return new Builder(adminAddress);
    }

    /** The {@code @id} of the app's route. */
    public static String routeId(AppRef app) {
        return "fleet-" + RouteNames.key(app);
    }

    @Override
    public Optional<Upstream> current(AppRef app) {
        Snapshot s = read();
        return s.route(routeId(app)).map(r -> upstreamOf(app, r));
    }

    @Override
    public void switchTo(AppRef app, Optional<Upstream> expected, Upstream next) {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(next, "next");
        String id = routeId(app);
        String host = RouteNames.hostOf(hostMapper, app);
        byte[] previousBody = null;
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            Snapshot s = read();
            Optional<JsonNode> route = s.route(id);
            Response r;
            if (route.isPresent()) {
                Upstream now = upstreamOf(app, route.get());
                if (now.equals(next)) {
                    return;
                }
                if (expected.isPresent() && !expected.get().equals(now)) {
                    throw new ConflictException("route of '" + app + "' (Caddy @id " + id + ") points at " + now
                            + ", not at the expected " + expected.get() + "; refusing to switch it to " + next);
                }
                ArrayNode upstreams = JSON.createArrayNode();
                upstreams.addObject().put("dial", next.dial());
                r = send("PATCH", "/id/" + id + "/handle/0/upstreams", upstreams, s.etag);
            } else if (s.routes.isArray() && s.routes.size() > 0) {
                r = send("PUT", routesPath + "/0", newRoute(id, host, next), s.etag);
            } else if (s.routes.isArray()) {
                r = send("POST", routesPath, newRoute(id, host, next), s.etag);
            } else {
                ArrayNode routes = JSON.createArrayNode();
                routes.add(newRoute(id, host, next));
                r = send("PUT", routesPath, routes, s.etag);
            }
            if (r.status / 100 == 2) {
                return;
            }
            if (r.status != 412) {
                throw refused("switch the route of '" + app + "' to " + next, r);
            }
            // 412: someone changed routes between our read and our write; read again. Twice the
            // same bytes and still 412 means Caddy does not accept our ETag at all.
            if (previousBody != null && Arrays.equals(previousBody, s.body)) {
                throw new ProxyException(name(), "Caddy refused the If-Match ETag of an unchanged config twice; "
                        + "this Caddy computes config ETags differently (" + r.body + ")");
            }
            previousBody = s.body;
        }
        throw new UnavailableException(name() + ": the routes kept changing under " + maxAttempts
                + " attempts to switch the route of '" + app + "' to " + next + "; try again");
    }

    /**
     * True while {@code try_duration} is positive: requests for an upstream that is not up yet
     * wait for it, so the orchestrator switches this route before it stops the source.
     */
    @Override
    public boolean holdsRequestsUntilUpstreamAnswers() {
        return !tryDuration.isZero();
    }

    @Override
    public void remove(AppRef app) {
        Response r = send("DELETE", "/id/" + routeId(app), null, null);
        if (r.status / 100 != 2 && !isUnknownId(r)) {
            throw refused("remove the route of '" + app + "'", r);
        }
    }

    private ObjectNode newRoute(String id, String host, Upstream next) {
        ObjectNode route = JSON.createObjectNode();
        route.put("@id", id);
        route.putArray("match").addObject().putArray("host").add(host);
        ObjectNode proxy = route.putArray("handle").addObject();
        proxy.put("handler", "reverse_proxy");
        proxy.putArray("upstreams").addObject().put("dial", next.dial());
        ObjectNode lb = proxy.putObject("load_balancing");
        lb.put("try_duration", tryDuration.toMillis() + "ms");
        lb.put("try_interval", tryInterval.toMillis() + "ms");
        route.put("terminal", true);
        return route;
    }

    private Upstream upstreamOf(AppRef app, JsonNode route) {
        JsonNode ups = route.path("handle").path(0).path("upstreams");
        if (!ups.isArray() || ups.size() != 1 || !ups.get(0).path("dial").isTextual()) {
            throw new ProxyException(name(), "the route of '" + app + "' (@id " + routeId(app)
                    + ") does not have exactly one upstream: " + route);
        }
        return RouteNames.parseDial(ups.get(0).path("dial").asText());
    }

    /** The server's routes as Caddy sent them, and the ETag that names exactly those bytes. */
    private record Snapshot(JsonNode routes, byte[] body, String etag) {
        Optional<JsonNode> route(String id) {
            if (routes.isArray()) {
                for (JsonNode r : routes) {
                    if (id.equals(r.path("@id").asText(null))) {
                        return Optional.of(r);
                    }
                }
            }
            return Optional.empty();
        }
    }

    private Snapshot read() {
        HttpResponse<byte[]> r = exchange(HttpRequest.newBuilder(uri(routesPath)).GET(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw refused("read " + routesPath, new Response(r.statusCode(), new String(r.body(), java.nio.charset.StandardCharsets.UTF_8)));
        }
        String etag = r.headers().firstValue("ETag").orElse("\"" + routesPath + " " + Fnv1a32.hex(r.body()) + "\"");
        try {
            return new Snapshot(JSON.readTree(r.body()), r.body(), etag);
        } catch (IOException e) {
            throw new ProxyException(name(), "unreadable JSON at " + routesPath, e);
        }
    }

    private record Response(int status, String body) {}

    private Response send(String method, String path, JsonNode body, String ifMatch) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path));
        try {
            b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        HttpResponse<String> r = exchange(b, HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body());
    }

    private <T> HttpResponse<T> exchange(HttpRequest.Builder b, HttpResponse.BodyHandler<T> handler) {
        HttpRequest request = b.timeout(requestTimeout).build();
        try {
            try {
                return http.send(request, handler);
            } catch (IOException e) {
                if (e instanceof java.net.ConnectException || e instanceof java.net.http.HttpTimeoutException) {
                    throw e;
                }
                // Caddy closes pooled admin connections when it swaps its config; one more try
                // on a fresh connection is safe because every write here is conditional
                // (If-Match) or idempotent (DELETE of an @id)
                return http.send(request, handler);
            }
        } catch (IOException e) {
            throw new UnavailableException("Caddy admin API at http://" + admin + " is unreachable: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnavailableException("interrupted while calling Caddy admin API at http://" + admin, e);
        }
    }

    private static boolean isUnknownId(Response r) {
        return r.status == 404 && r.body.contains("unknown object ID");
    }

    private ProxyException refused(String what, Response r) {
        return new ProxyException(name(), "could not " + what + ": HTTP " + r.status + " " + r.body.strip());
    }

    private URI uri(String path) {
        return URI.create("http://" + admin + path);
    }

    private String name() {
        return "caddy admin " + admin;
    }

    /** Explicit construction; every setting has a default but the admin address. */
    public static final class Builder {
        private final String admin;
        private String server = "fleet";
        private Function<AppRef, String> hostMapper = RouteNames.subdomainsOf("fleet.test");
        private Duration tryDuration = Duration.ofSeconds(5);
        private Duration tryInterval = Duration.ofMillis(50);
        private Duration requestTimeout = Duration.ofSeconds(5);
        private int maxAttempts = 50;

        private Builder(String adminAddress) {
            if (adminAddress == null || !ADMIN_ADDRESS.matcher(adminAddress).matches()) {
                throw new InvalidInputException("caddy.admin", adminAddress, "must be host:port, e.g. 127.0.0.1:2019");
            }
            this.admin = adminAddress;
        }

        /** The name of the server under {@code apps/http/servers} whose routes this router owns; default {@code fleet}. */
        public Builder server(String name) {
            this.server = dev.fleet.migration.core.Names.require("caddy.server", name, SERVER_NAME, 128);
            return this;
        }

        /** Maps an app to the host its route matches; default {@code <name>.fleet.test}. */
        public Builder hostMapper(Function<AppRef, String> mapper) {
            this.hostMapper = Objects.requireNonNull(mapper, "hostMapper");
            return this;
        }

        /** Shorthand for {@code hostMapper(<name>.<domain>)}. */
        public Builder domain(String domain) {
            return hostMapper(RouteNames.subdomainsOf(domain));
        }

        /**
         * How long Caddy keeps retrying a refused upstream before it answers 502 (default 5 s),
         * and how long it waits between tries (default 50 ms).
         */
        public Builder retry(Duration tryDuration, Duration tryInterval) {
            if (tryDuration.isNegative() || tryInterval.isNegative() || tryInterval.isZero()) {
                throw new InvalidInputException("caddy.retry", tryDuration + "/" + tryInterval, "must be non-negative with a positive interval");
            }
            this.tryDuration = tryDuration;
            this.tryInterval = tryInterval;
            return this;
        }

        /** Timeout of one admin request (default 5 s). */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        public CaddyProxyRouter build() {
            return new CaddyProxyRouter(this);
        }
    }
}
