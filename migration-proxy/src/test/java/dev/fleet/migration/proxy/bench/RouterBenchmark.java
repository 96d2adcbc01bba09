package dev.fleet.migration.proxy.bench;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.spi.ProxyRouter;
import dev.fleet.migration.core.spi.Upstream;
import dev.fleet.migration.proxy.NamedServer;
import dev.fleet.migration.proxy.ProxyTestEnvironment;
import dev.fleet.migration.proxy.internal.AtomicFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Repoint latency, in one run against the test Caddy and nginx (proxy.sh's variables): the
 * time from the call to the first request, on a fresh connection through the proxy, that the new
 * upstream answers. Caddy: {@code CaddyProxyRouter.switchTo}. nginx twice: a bare reload (write
 * the file, {@code nginx -s reload}) and {@code NginxProxyRouter.switchTo} (nginx -t, reload, and
 * its 150 ms settle check). 50 switches each, after 5 warm-up switches.
 *
 * <pre>mvn -pl migration-proxy exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=dev.fleet.migration.proxy.bench.RouterBenchmark</pre>
 */
public final class RouterBenchmark {
    private static final int SWITCHES = 50;
    private static final int WARMUP = 5;

    public static void main(String[] args) throws Exception {
        try (NamedServer a = new NamedServer("upstream-a"); NamedServer b = new NamedServer("upstream-b")) {
            List<Double> caddy = measureRouter(ProxyTestEnvironment.caddyRouter(), ProxyTestEnvironment.caddyHttp(), a, b);
            List<Double> nginxRaw = measureRawNginxReload(a, b);
            List<Double> nginxRouter = measureRouter(ProxyTestEnvironment.nginxRouter(), ProxyTestEnvironment.nginxHttp(), a, b);
            System.out.println("repoint: call -> first request served by the new upstream, " + SWITCHES + " switches each");
            print("caddy  (admin API PATCH)       ", caddy);
            print("nginx  (file + nginx -s reload)", nginxRaw);
            print("nginx  (NginxProxyRouter)      ", nginxRouter);
            System.out.printf("ratio caddy/nginx-reload: p50 %.3f  p95 %.3f%n",
                    pct(caddy, 50) / pct(nginxRaw, 50), pct(caddy, 95) / pct(nginxRaw, 95));
            System.out.printf("ratio caddy/nginx-router: p50 %.3f  p95 %.3f%n",
                    pct(caddy, 50) / pct(nginxRouter, 50), pct(caddy, 95) / pct(nginxRouter, 95));
        }
    }

    private static AppRef app(String prefix) {
        return AppRef.container(prefix + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36));
    }

    private static List<Double> measureRouter(ProxyRouter router, String proxy, NamedServer a, NamedServer b) throws Exception {
        AppRef app = app("bench-");
        List<Double> ms = new ArrayList<>();
        try {
            router.switchTo(app, Optional.empty(), a.upstream());
            for (int i = 0; i < WARMUP + SWITCHES; i++) {
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
    private static List<Double> measureRawNginxReload(NamedServer a, NamedServer b) throws Exception {
        ProxyRouter router = ProxyTestEnvironment.nginxRouter();
        AppRef app = app("bench-raw-");
        Path file = Path.of(ProxyTestEnvironment.env("FLEET_TEST_NGINX_CONF_DIR")).resolve("route-" + app.name() + ".conf");
        List<Double> ms = new ArrayList<>();
        try {
            router.switchTo(app, Optional.empty(), a.upstream());
            for (int i = 0; i < WARMUP + SWITCHES; i++) {
                Upstream from = (i % 2 == 0 ? a : b).upstream();
                NamedServer to = i % 2 == 0 ? b : a;
                String conf = Files.readString(file).replace(from.dial() + " ", to.upstream().dial() + " ")
                        .replace("http://" + from.dial() + ";", "http://" + to.upstream().dial() + ";");
                long t0 = System.nanoTime();
                AtomicFiles.write(file, conf.getBytes(StandardCharsets.UTF_8));
                Process p = new ProcessBuilder(ProxyTestEnvironment.env("FLEET_TEST_NGINX_BIN"),
                        "-p", ProxyTestEnvironment.env("FLEET_TEST_NGINX_PREFIX"),
                        "-c", ProxyTestEnvironment.env("FLEET_TEST_NGINX_CONF"), "-s", "reload")
                        .redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor() != 0) {
                    throw new IllegalStateException("nginx -s reload failed");
                }
                waitServed(ProxyTestEnvironment.nginxHttp(), app, to, a, b);
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

    private static void waitServed(String proxy, AppRef app, NamedServer to, NamedServer a, NamedServer b) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!ProxyTestEnvironment.servedBy(proxy, app, a, b).equals(Optional.of(to.upstream()))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(to.name() + " never served " + app + " through " + proxy);
            }
            Thread.sleep(0, 200_000);
        }
    }

    private static double pct(List<Double> values, int p) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int idx = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, idx));
    }

    private static void print(String label, List<Double> ms) {
        System.out.printf("%s p50 %7.2f ms  p95 %7.2f ms  max %7.2f ms%n", label, pct(ms, 50), pct(ms, 95), pct(ms, 100));
    }
}
