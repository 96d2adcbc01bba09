package dev.fleet.migration.bench;

import com.sun.net.httpserver.HttpServer;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.spi.ProxyRouter;
import dev.fleet.migration.core.spi.Upstream;
import dev.fleet.migration.examples.CutoverEnvironment;
import dev.fleet.migration.examples.HttpGet;
import dev.fleet.migration.proxy.internal.AtomicFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Issue 7's repoint figures, in one run against the Caddy and nginx of proxy.sh: the time from
 * the call to the first request, on a fresh connection through the proxy, that the new upstream
 * answers. Caddy: {@code CaddyProxyRouter.switchTo}. nginx twice: a bare reload (write the file,
 * {@code nginx -s reload}), the baseline, and {@code NginxProxyRouter.switchTo} (nginx -t,
 * reload, and its 150 ms settle check). {@code bench.router.switches} (default 50) switches
 * each, after 5 warm-up switches, between two tiny upstreams on 127.0.0.1 that answer with their
 * names.
 *
 * <p>Targets (issue 7): with the Caddy router the repoint p95 ≤ 100 ms and ≤ 0.5× the time of an
 * nginx reload measured in the same run. The p50s and NginxProxyRouter's times are shown beside
 * them.
 */
final class RouterBenchmark implements Benchmark {
    private static final int WARMUP = 5;
    private final int switches = Integer.getInteger("bench.router.switches", 50);

    @Override
    public String name() {
        return "router";
    }

    @Override
    public List<String> services() {
        return List.of("proxy");
    }

    @Override
    public List<Figure> run() throws Exception {
        try (NamedServer a = new NamedServer("upstream-a"); NamedServer b = new NamedServer("upstream-b")) {
            List<Double> caddy = measureRouter(CutoverEnvironment.caddyRouter(), CutoverEnvironment.caddyHttp(), a, b);
            List<Double> nginxRaw = measureRawNginxReload(a, b);
            List<Double> nginxRouter = measureRouter(CutoverEnvironment.nginxRouter(), CutoverEnvironment.nginxHttp(), a, b);
            System.out.println("router: repoint: call -> first request served by the new upstream, " + switches
                    + " switches each");
            print("caddy  (admin API PATCH)       ", caddy);
            print("nginx  (file + nginx -s reload)", nginxRaw);
            print("nginx  (NginxProxyRouter)      ", nginxRouter);
            System.out.printf(Locale.ROOT, "router: ratio caddy/nginx-reload: p50 %.3f  p95 %.3f%n",
                    pct(caddy, 50) / pct(nginxRaw, 50), pct(caddy, 95) / pct(nginxRaw, 95));
            System.out.printf(Locale.ROOT, "router: ratio caddy/nginx-router: p50 %.3f  p95 %.3f%n",
                    pct(caddy, 50) / pct(nginxRouter, 50), pct(caddy, 95) / pct(nginxRouter, 95));

            String bench = "router: repoint";
            String n = " (" + switches + " switches)";
            String reload = "file + nginx -s reload";
            double p95 = pct(caddy, 95);
            return List.of(
                    new Figure(bench, "CaddyProxyRouter p95" + n, p95, "ms", pct(nginxRaw, 95), reload + ", p95",
                            "≤ 0.5× baseline", p95 <= 0.5 * pct(nginxRaw, 95)),
                    new Figure(bench, "CaddyProxyRouter p95" + n, p95, "ms", Double.NaN, "—", "≤ 100 ms", p95 <= 100),
                    new Figure(bench, "CaddyProxyRouter p50" + n, pct(caddy, 50), "ms", pct(nginxRaw, 50),
                            reload + ", p50", "—", true),
                    new Figure(bench, "NginxProxyRouter p95 (nginx -t, reload, settle check)" + n, pct(nginxRouter, 95),
                            "ms", pct(nginxRaw, 95), reload + ", p95", "—", true));
        }
    }

    private static AppRef app(String prefix) {
        return AppRef.container(prefix + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36));
    }

    private List<Double> measureRouter(ProxyRouter router, String proxy, NamedServer a, NamedServer b) throws Exception {
        AppRef app = app("bench-");
        List<Double> ms = new ArrayList<>();
        try {
            router.switchTo(app, Optional.empty(), a.upstream());
            for (int i = 0; i < WARMUP + switches; i++) {
                NamedServer from = i % 2 == 0 ? a : b;
                NamedServer to = i % 2 == 0 ? b : a;
                long t0 = System.nanoTime();
                router.switchTo(app, Optional.of(from.upstream()), to.upstream());
                waitServed(proxy, app, to, a, b);
                if (i >= WARMUP) {
                    ms.add((System.nanoTime() - t0) / 1e6);
                }
            }
        } finally {
            router.remove(app);
        }
        return ms;
    }

    /** The bare nginx mechanism: rewrite the route's upstream in its file, reload, wait for the new upstream. */
    private List<Double> measureRawNginxReload(NamedServer a, NamedServer b) throws Exception {
        ProxyRouter router = CutoverEnvironment.nginxRouter();
        AppRef app = app("bench-raw-");
        // NginxProxyRouter's file for a container app
        Path file = Path.of(BenchApps.env("FLEET_TEST_NGINX_CONF_DIR")).resolve("route-" + app.name() + ".conf");
        List<String> reload = List.of(BenchApps.env("FLEET_TEST_NGINX_BIN"),
                "-p", BenchApps.env("FLEET_TEST_NGINX_PREFIX"), "-c", BenchApps.env("FLEET_TEST_NGINX_CONF"),
                "-s", "reload");
        List<Double> ms = new ArrayList<>();
        try {
            router.switchTo(app, Optional.empty(), a.upstream());
            if (!Files.exists(file)) {
                throw new IllegalStateException("NginxProxyRouter did not write " + file);
            }
            for (int i = 0; i < WARMUP + switches; i++) {
                Upstream from = (i % 2 == 0 ? a : b).upstream();
                NamedServer to = i % 2 == 0 ? b : a;
                String conf = Files.readString(file).replace(from.dial() + " ", to.upstream().dial() + " ")
                        .replace("http://" + from.dial() + ";", "http://" + to.upstream().dial() + ";");
                long t0 = System.nanoTime();
                AtomicFiles.write(file, conf.getBytes(StandardCharsets.UTF_8));
                Process p = new ProcessBuilder(reload).redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor() != 0) {
                    throw new IllegalStateException("nginx -s reload failed");
                }
                waitServed(CutoverEnvironment.nginxHttp(), app, to, a, b);
                if (i >= WARMUP) {
                    ms.add((System.nanoTime() - t0) / 1e6);
                }
                // let the old workers go before the next round, as the router's settle check does
                Thread.sleep(200);
            }
        } finally {
            router.remove(app);
        }
        return ms;
    }

    private static void waitServed(String proxy, AppRef app, NamedServer to, NamedServer a, NamedServer b)
            throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!servedBy(proxy, app, a, b).equals(Optional.of(to.upstream()))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(to.name() + " never served " + app + " through " + proxy);
            }
            Thread.sleep(0, 200_000);
        }
    }

    /** Which of the servers answered one request for {@code app} through {@code proxy}, on a fresh connection. */
    private static Optional<Upstream> servedBy(String proxy, AppRef app, NamedServer... servers) {
        try {
            HttpGet.Answer answer = HttpGet.get(proxy, CutoverEnvironment.hostOf(app.id()), "/", 10_000);
            for (NamedServer s : servers) {
                if (answer.status() == 200 && answer.body().equals(s.name())) {
                    return Optional.of(s.upstream());
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new IllegalStateException("request through " + proxy + " for " + app + " failed: " + e, e);
        }
    }

    private static double pct(List<Double> values, int p) {
        return BenchApps.percentile(values, p);
    }

    private static void print(String label, List<Double> ms) {
        System.out.printf(Locale.ROOT, "router: %s p50 %7.2f ms  p95 %7.2f ms  max %7.2f ms%n", label, pct(ms, 50),
                pct(ms, 95), pct(ms, 100));
    }

    /** A tiny upstream on 127.0.0.1 that answers every request with its own name. */
    private static final class NamedServer implements AutoCloseable {
        private final String name;
        private final HttpServer server;
        private final ExecutorService executor = Executors.newCachedThreadPool();

        NamedServer(String name) throws IOException {
            this.name = name;
            this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 100);
            byte[] body = name.getBytes(StandardCharsets.UTF_8);
            server.createContext("/", ex -> {
                ex.getRequestBody().readAllBytes();
                ex.getResponseHeaders().add("Content-Type", "text/plain");
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            });
            server.setExecutor(executor);
            server.start();
        }

        String name() {
            return name;
        }

        Upstream upstream() {
            return new Upstream("127.0.0.1", server.getAddress().getPort());
        }

        @Override
        public void close() {
            server.stop(0);
            executor.shutdownNow();
        }
    }
}
