package dev.fleet.migration.bench;

import static dev.fleet.migration.examples.CutoverEnvironment.docker;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.spi.Upstream;
import dev.fleet.migration.examples.CutoverApp;
import dev.fleet.migration.examples.CutoverEnvironment;
import dev.fleet.migration.examples.CutoverFleet;
import dev.fleet.migration.examples.HttpGet;
import dev.fleet.migration.examples.PollingClient;
import dev.fleet.migration.proxy.CaddyProxyRouter;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Issue 7's cutover figures, in one run on the real parts (two Docker engines from docker.sh, the
 * Caddy from proxy.sh, the Caddy router, route-first cutover):
 *
 * <ul>
 * <li><b>T_restart</b>, the baseline: {@code docker stop} + {@code docker start} of the same app
 *     (the docker CLI, as an operator restarts it) until the first 200 from the app, polled every
 *     5 ms; the median of {@code bench.cutover.restarts} (default 5) restarts, measured before the
 *     migrations.</li>
 * <li><b>cutover downtime</b>: the downtime recorded on each of {@code bench.cutover.migrations}
 *     (default 10) migrations of the same app, alternating a→b and b→a, with a client polling
 *     through Caddy every 10 ms (its view, last source answer to first target answer, and its
 *     failed responses are printed beside each migration).</li>
 * </ul>
 *
 * Goals: p50 ≤ 1.2 × T_restart + 100 ms, p95 ≤ 1.5 × T_restart (nearest-rank percentiles: with 10
 * samples p50 is the 5th smallest and p95 the largest).
 *
 * <p>The fleet, the app and the client are the examples' cutover tests' own ({@link CutoverFleet}:
 * nodes "a" (upstream host 127.0.0.1) and "b" (127.0.0.2) on the two engines, the shared-directory
 * transport, an in-memory store, a scheduler ticking every 100 ms; {@link CutoverApp}; {@link
 * PollingClient}), from the examples' test-jar.
 */
final class CutoverBenchmark implements Benchmark {
    private final int restartCount = Integer.getInteger("bench.cutover.restarts", 5);
    private final int migrationCount = Integer.getInteger("bench.cutover.migrations", 10);

    @Override
    public String name() {
        return "cutover";
    }

    @Override
    public List<String> services() {
        return List.of("docker", "proxy");
    }

    @Override
    public List<Figure> run() throws Exception {
        String name = CutoverApp.freshName("bench");
        CaddyProxyRouter router = CutoverEnvironment.caddyRouter();
        CutoverApp app = CutoverApp.start(CutoverEnvironment.dockerA(), name, List.of());
        try (CutoverFleet fleet = new CutoverFleet(router, (previous, saved) -> {})) {
            router.switchTo(AppRef.parse(name), Optional.empty(), new Upstream(CutoverFleet.UPSTREAM_A, app.port));

            List<Long> restarts = new ArrayList<>();
            for (int i = 0; i < restartCount; i++) {
                restarts.add(restartMillis(CutoverEnvironment.dockerA(), name, app.port));
                System.out.printf(Locale.ROOT, "cutover: restart %d: %d ms%n", i + 1, restarts.get(i));
            }
            long tRestart = BenchApps.percentile(restarts, 50);

            List<Long> downtimes = new ArrayList<>();
            String from = "a";
            for (int i = 0; i < migrationCount; i++) {
                String to = from.equals("a") ? "b" : "a";
                String sourceId = docker(CutoverFleet.dockerOf(from), "inspect", "--format", "{{.Id}}", name);
                PollingClient client = new PollingClient(CutoverEnvironment.caddyHttp(), CutoverEnvironment.hostOf(name),
                        "/who", Duration.ofMillis(10));
                Migration m;
                try {
                    m = fleet.migrate(name, from, to, Duration.ofSeconds(120));
                    Thread.sleep(200);
                } finally {
                    client.close();
                }
                if (m.state() != MigrationState.DONE) {
                    throw new IllegalStateException("migration " + (i + 1) + " " + from + "→" + to + " ended "
                            + m.state() + ": " + m.failure());
                }
                String targetId = docker(CutoverFleet.dockerOf(to), "inspect", "--format", "{{.Id}}", name);
                PollingClient.View view = client.view(id -> id.equals(sourceId) ? "source"
                        : id.equals(targetId) ? "target" : "unknown " + id);
                long downtime = m.downtime().orElseThrow().toMillis();
                downtimes.add(downtime);
                System.out.printf(Locale.ROOT, "cutover: migration %2d %s→%s: downtime %4d ms; client: gap %s ms,"
                                + " longest wait %d ms, %d requests, %d failed%n", i + 1, from, to, downtime,
                        view.gap().map(d -> String.valueOf(d.toMillis())).orElse("-"), view.longestWait().toMillis(),
                        view.sent(), view.failures().size());
                from = to;
            }

            long p50 = BenchApps.percentile(downtimes, 50);
            long p95 = BenchApps.percentile(downtimes, 95);
            double goal50 = 1.2 * tRestart + 100;
            double goal95 = 1.5 * tRestart;
            System.out.printf(Locale.ROOT, "cutover: T_restart (docker stop + docker start until the first 200, median"
                    + " of %d): %d ms %s%n", restartCount, tRestart, restarts);
            System.out.printf(Locale.ROOT, "cutover: downtime over %d migrations: p50 %d ms, p95 %d ms %s%n",
                    migrationCount, p50, p95, downtimes);
            String baseline = "T_restart: docker stop + docker start until the first 200, median of " + restartCount;
            String over = " over " + migrationCount + " migrations (Caddy router)";
            return List.of(
                    new Figure("cutover: downtime", "p50" + over, p50, "ms", tRestart, baseline,
                            "≤ 1.2× baseline + 100 ms", p50 <= goal50),
                    new Figure("cutover: downtime", "p95" + over, p95, "ms", tRestart, baseline,
                            "≤ 1.5× baseline", p95 <= goal95));
        } finally {
            try {
                router.remove(AppRef.parse(name));
            } catch (RuntimeException e) {
                System.err.println("could not remove the route of " + name + ": " + e);
            }
            app.removeEverywhere();
        }
    }

    /** docker stop + docker start of the container, until the app's first 200 on 127.0.0.1:port (polled every 5 ms). */
    private static long restartMillis(String dockerHost, String name, int port) throws Exception {
        long t0 = System.nanoTime();
        docker(dockerHost, "stop", name);
        docker(dockerHost, "start", name);
        long deadline = t0 + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                if (HttpGet.get("127.0.0.1:" + port, null, "/who", 1000).status() == 200) {
                    return (System.nanoTime() - t0) / 1_000_000;
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(5);
        }
        throw new IllegalStateException(name + " did not answer 200 within 60 s of docker stop");
    }
}
