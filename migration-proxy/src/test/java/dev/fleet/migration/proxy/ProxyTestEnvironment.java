package dev.fleet.migration.proxy;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.spi.Upstream;
import dev.fleet.migration.proxy.internal.RouteNames;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where scripts/ci/services/proxy.sh started the test Caddy and nginx, read from the
 * FLEET_TEST_* variables. A missing variable fails the test, naming it: these tests never skip.
 */
public final class ProxyTestEnvironment {
    private ProxyTestEnvironment() {}

    public static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException(name + " is not set: run the tests through scripts/test.sh, or run "
                    + "`bash scripts/ci/services/proxy.sh up /tmp/fleet-test && source /tmp/fleet-test/proxy.env` first");
        }
        return v;
    }

    public static String caddyAdmin() {
        return env("FLEET_TEST_CADDY_ADMIN");
    }

    public static String caddyHttp() {
        return env("FLEET_TEST_CADDY_HTTP");
    }

    public static String nginxHttp() {
        return env("FLEET_TEST_NGINX_HTTP");
    }

    public static CaddyProxyRouter caddyRouter() {
        return CaddyProxyRouter.builder(caddyAdmin()).server(env("FLEET_TEST_CADDY_SERVER")).build();
    }

    public static NginxProxyRouter nginxRouter() {
        String[] listen = nginxHttp().split(":");
        return NginxProxyRouter.builder(Path.of(env("FLEET_TEST_NGINX_BIN")), Path.of(env("FLEET_TEST_NGINX_PREFIX")),
                        Path.of(env("FLEET_TEST_NGINX_CONF")), Path.of(env("FLEET_TEST_NGINX_CONF_DIR")))
                .listen(listen[0], Integer.parseInt(listen[1]))
                .build();
    }

    /** The host the routers' default mapper gives {@code app}. */
    public static String hostOf(AppRef app) {
        return RouteNames.subdomainsOf("fleet.test").apply(app);
    }

    /**
     * One GET through the proxy at {@code proxy} ({@code host:port}) on a fresh connection, with
     * the app's Host header; the status and body.
     */
    public static Answer get(String proxy, AppRef app) throws IOException {
        String[] hp = proxy.split(":");
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), 2000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: " + hostOf(app) + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            String text = all.toString(StandardCharsets.ISO_8859_1);
            int status = Integer.parseInt(text.split(" ", 3)[1]);
            int body = text.indexOf("\r\n\r\n");
            return new Answer(status, body < 0 ? "" : text.substring(body + 4));
        }
    }

    public record Answer(int status, String body) {}

    /** Which of the two servers answered a request through {@code proxy} for {@code app}, if either. */
    public static Optional<Upstream> servedBy(String proxy, AppRef app, NamedServer... servers) {
        try {
            Answer a = get(proxy, app);
            for (NamedServer s : servers) {
                if (a.status() == 200 && a.body().equals(s.name())) {
                    return Optional.of(s.upstream());
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new IllegalStateException("request through " + proxy + " for " + app + " failed: " + e, e);
        }
    }
}
