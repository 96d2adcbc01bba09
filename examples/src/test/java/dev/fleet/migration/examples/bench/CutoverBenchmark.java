package dev.fleet.migration.examples.bench;

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
 * Issue 7's speed figures, in one run on the real parts (two Docker engines from docker.sh, the
 * Caddy from proxy.sh, the Caddy router, route-first cutover):
 *
 * <ul>
 * <li><b>T_restart</b>: {@code docker stop} + {@code docker start} of the same app (the docker CLI,
 *     as an operator restarts it) until the first 200 from the app, polled every 5 ms; the median
 *     of {@value #RESTARTS} restarts, measured before the migrations.</li>
 * <li><b>cutover downtime</b>: the downtime recorded on each of {@value #MIGRATIONS} migrations of
 *     the same app, alternating a→b and b→a, with a client polling through Caddy every 10 ms
 *     (its view, last source answer to first target answer, and its failed responses are printed
 *     beside each migration).</li>
 * </ul>
 *
 * Goals: p50 ≤ 1.2 × T_restart + 100 ms, p95 ≤ 1.5 × T_restart (nearest-rank percentiles: with 10
 * samples p50 is the 5th smallest and p95 the largest). Prints every figure and the ratios; exits
 * 0 when both goals hold, 1 otherwise, 2 when it could not run.
 *
 * <p>Run (as root, from the repository root):
 * <pre>
 * bash scripts/ci/services/docker.sh up /tmp/fleet-cut &amp;&amp; bash scripts/ci/services/proxy.sh up /tmp/fleet-cut
 * source /tmp/fleet-cut/docker.env &amp;&amp; source /tmp/fleet-cut/proxy.env
 * mvn -B -q -pl examples -am install -DskipTests
 * mvn -B -q -pl examples test-compile dependency:build-classpath -Dmdep.outputFile=target/test.classpath
 * java -cp examples/target/test-classes:examples/target/classes:$(cat examples/target/test.classpath) \
 *     -Dorg.slf4j.simpleLogger.defaultLogLevel=warn dev.fleet.migration.examples.bench.CutoverBenchmark
 * bash scripts/ci/services/proxy.sh down /tmp/fleet-cut &amp;&amp; bash scripts/ci/services/docker.sh down /tmp/fleet-cut
 * </pre>
 */
public final class CutoverBenchmark {
    static final int RESTARTS = 5;
    static final int MIGRATIONS = 10;

    private CutoverBenchmark() {}

    public static void main(String[] args) {
        int rc;
        try {
            rc = run();
        } catch (RuntimeException | AssertionError e) {
            e.printStackTrace();
            rc = 2;
        }
        System.exit(rc);
    }

    static int run() {
        String name = CutoverApp.freshName("bench");
        CaddyProxyRouter router = CutoverEnvironment.caddyRouter();
        CutoverApp app = CutoverApp.start(CutoverEnvironment.dockerA(), name, List.of());
        try (CutoverFleet fleet = new CutoverFleet(router, (previous, saved) -> {})) {
            router.switchTo(AppRef.parse(name), Optional.empty(), new Upstream(CutoverFleet.UPSTREAM_A, app.port));

            List<Long> restarts = new ArrayList<>();
            for (int i = 0; i < RESTARTS; i++) {
                restarts.add(restartMillis(CutoverEnvironment.dockerA(), name, app.port));
                System.out.printf(Locale.ROOT, "restart %d: %d ms%n", i + 1, restarts.get(i));
            }
            long tRestart = percentile(restarts, 50);

            List<Long> downtimes = new ArrayList<>();
            String from = "a";
            for (int i = 0; i < MIGRATIONS; i++) {
                String to = from.equals("a") ? "b" : "a";
                String sourceId = docker(CutoverFleet.dockerOf(from), "inspect", "--format", "{{.Id}}", name);
                PollingClient client = new PollingClient(CutoverEnvironment.caddyHttp(),
                        CutoverEnvironment.hostOf(name), "/who", Duration.ofMillis(10));
                Migration m;
                try {
                    m = fleet.migrate(name, from, to, Duration.ofSeconds(120));
                    CutoverEnvironment.sleep(200);
                } finally {
                    client.close();
                }
                if (m.state() != MigrationState.DONE) {
                    throw new AssertionError("migration " + (i + 1) + " " + from + "→" + to + " ended " + m.state()
                            + ": " + m.failure());
                }
                String targetId = docker(CutoverFleet.dockerOf(to), "inspect", "--format", "{{.Id}}", name);
                PollingClient.View view = client.view(id -> id.equals(sourceId) ? "source"
                        : id.equals(targetId) ? "target" : "unknown " + id);
                long downtime = m.downtime().orElseThrow().toMillis();
                downtimes.add(downtime);
                System.out.printf(Locale.ROOT, "migration %2d %s→%s: downtime %4d ms; client: gap %s ms, longest wait"
                                + " %d ms, %d requests, %d failed%n", i + 1, from, to, downtime,
                        view.gap().map(d -> String.valueOf(d.toMillis())).orElse("-"), view.longestWait().toMillis(),
                        view.sent(), view.failures().size());
                from = to;
            }

            long p50 = percentile(downtimes, 50);
            long p95 = percentile(downtimes, 95);
            double goal50 = 1.2 * tRestart + 100;
            double goal95 = 1.5 * tRestart;
            System.out.println();
            System.out.printf(Locale.ROOT, "T_restart (docker stop + docker start until the first 200, median of %d): %d ms %s%n",
                    RESTARTS, tRestart, restarts);
            System.out.printf(Locale.ROOT, "cutover downtime over %d migrations: p50 %d ms, p95 %d ms %s%n",
                    MIGRATIONS, p50, p95, downtimes);
            System.out.printf(Locale.ROOT, "p50 / T_restart = %.2f;  p50 %d ms vs goal 1.2 x T_restart + 100 = %.0f ms"
                    + " -> %s (ratio to goal %.2f)%n", (double) p50 / tRestart, p50, goal50,
                    p50 <= goal50 ? "PASS" : "FAIL", p50 / goal50);
            System.out.printf(Locale.ROOT, "p95 / T_restart = %.2f;  p95 %d ms vs goal 1.5 x T_restart       = %.0f ms"
                    + " -> %s (ratio to goal %.2f)%n", (double) p95 / tRestart, p95, goal95,
                    p95 <= goal95 ? "PASS" : "FAIL", p95 / goal95);
            return p50 <= goal50 && p95 <= goal95 ? 0 : 1;
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
    static long restartMillis(String dockerHost, String name, int port) {
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
            CutoverEnvironment.sleep(5);
        }
        throw new AssertionError(name + " did not answer 200 within 60 s of docker stop");
    }

    /** Nearest-rank percentile. */
    static long percentile(List<Long> values, int p) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }
}
