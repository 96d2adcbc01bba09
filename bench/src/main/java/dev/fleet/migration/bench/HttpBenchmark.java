package dev.fleet.migration.bench;

import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.http.ControlPlane;
import dev.fleet.migration.store.jdbc.SqliteMigrationStore;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Issue 6's listing benchmark: a control plane on 127.0.0.1 over a SQLite store seeded with
 * 10,000 migrations (900 active), and 200 concurrent clients, each a thread with its own
 * keep-alive HttpURLConnection, sending requests back to back (a closed loop: every client
 * waits for its answer, then asks again). Latency is from sending the request to reading the
 * last byte of the answer.
 *
 * <p>The baseline is {@code GET /api/nodes} (a tiny answer through the same server, threads
 * and token check) under the same load, measured in alternating rounds with the listing, so
 * both see the same machine. Each figure is the median over the rounds.
 *
 * <p>Target: {@code GET /api/migrations} (the default page: the newest 50, as summaries) p99 ≤ 100 ms.
 */
final class HttpBenchmark implements Benchmark {
    private static final String TOKEN = "bench-operator-token-0123456789";
    private final int migrations = Integer.getInteger("bench.http.migrations", 10_000);
    private final int active = Integer.getInteger("bench.http.active", 900);
    private final int clients = Integer.getInteger("bench.http.clients", 200);
    private final int requests = Integer.getInteger("bench.http.requests", 20_000);
    private final int rounds = Integer.getInteger("bench.http.rounds", 3);

    @Override
    public String name() {
        return "http";
    }

    @Override
    public List<Figure> run() throws Exception {
        // one pooled connection per client thread (the JDK keeps 5 per host by default)
        System.setProperty("http.maxConnections", String.valueOf(Math.max(clients, 5)));
        Path dir = Files.createTempDirectory("fleet-bench-http");
        try {
            SeededStore.Seeded seeded = SeededStore.seed(dir.resolve("migrations.db"), migrations, active);
            try (SqliteMigrationStore store = SqliteMigrationStore.open(seeded.file());
                 ControlPlane cp = controlPlane(store)) {
                return measure(cp.url());
            }
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The scheduler is off: the seeded migrations are data to list, not work to drive. */
    static ControlPlane controlPlane(SqliteMigrationStore store) {
        FakeFleet fleet = new FakeFleet(Clock.systemUTC(), 1);
        return ControlPlane.builder().listen("127.0.0.1", 0).operatorToken(TOKEN).store(store)
                .node(fleet.node("a"), "127.0.0.1").node(fleet.node("b"), "127.0.0.2")
                .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ZERO))
                .start();
    }

    static String token() {
        return TOKEN;
    }

    private List<Figure> measure(String base) throws Exception {
        String list = base + "/api/migrations";
        String nodes = base + "/api/nodes";
        String panel = base + "/api/migrations?state=active&limit=1000";
        String hundred = base + "/api/migrations?limit=100";
        System.out.printf("http: %d clients, %d requests per round, %d rounds%n", clients, requests, rounds);
        // warm the JIT, the connections and SQLite's page cache
        load(nodes, clients, requests / 2);
        load(list, clients, requests / 2);
        load(panel, clients, requests / 20);
        List<Run> base0 = new ArrayList<>();
        List<Run> listed = new ArrayList<>();
        List<Run> panels = new ArrayList<>();
        List<Run> hundreds = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            base0.add(report("GET /api/nodes", load(nodes, clients, requests)));
            listed.add(report("GET /api/migrations", load(list, clients, requests)));
            hundreds.add(report("GET /api/migrations?limit=100", load(hundred, clients, requests)));
            panels.add(report("GET /api/migrations?state=active&limit=1000", load(panel, clients, requests / 10)));
        }
        String bench = "http: " + migrations + " migrations in SQLite, " + clients + " clients";
        double p99 = median(listed, Run::p99);
        return List.of(
                new Figure(bench, "GET /api/migrations (default page, newest 50) p50", median(listed, Run::p50), "ms",
                        median(base0, Run::p50), "GET /api/nodes p50, same load", "—", true),
                new Figure(bench, "GET /api/migrations (default page, newest 50) p99", p99, "ms", median(base0, Run::p99),
                        "GET /api/nodes p99, same load", "≤ 100 ms", p99 <= 100.0),
                new Figure(bench, "GET /api/migrations (default page, newest 50) throughput", median(listed, Run::perSecond),
                        "req/s", median(base0, Run::perSecond), "GET /api/nodes req/s", "—", true),
                new Figure(bench, "GET /api/migrations?limit=100 p99", median(hundreds, Run::p99), "ms",
                        median(base0, Run::p99), "GET /api/nodes p99, same load", "—", true),
                new Figure(bench, "Control Panel's read: state=active&limit=1000 (" + active + " rows) p99",
                        median(panels, Run::p99), "ms", median(base0, Run::p99), "GET /api/nodes p99, same load", "—",
                        true));
    }

    record Run(double p50, double p99, double perSecond) {}

    private static Run report(String what, Run r) {
        System.out.printf(Locale.ROOT, "  %-45s p50 %7.2f ms  p99 %7.2f ms  %8.0f req/s%n", what, r.p50(), r.p99(),
                r.perSecond());
        return r;
    }

    private static double median(List<Run> runs, java.util.function.ToDoubleFunction<Run> f) {
        double[] v = runs.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /**
     * {@code total} GETs of {@code url} from {@code clients} threads, back to back; every answer
     * must be 200 and is read to the end.
     */
    static Run load(String url, int clients, int total) throws Exception {
        long[] nanos = new long[total];
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Exception> failure = new AtomicReference<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        URL u = new URL(url);
        for (int c = 0; c < clients; c++) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[64 * 1024];
                try {
                    go.await();
                    for (int i = next.getAndIncrement(); i < total && failure.get() == null; i = next.getAndIncrement()) {
                        long t0 = System.nanoTime();
                        HttpURLConnection conn = (HttpURLConnection) u.openConnection();
                        conn.setRequestProperty("Authorization", "Bearer " + TOKEN);
                        conn.setConnectTimeout(30_000);
                        conn.setReadTimeout(60_000);
                        int status = conn.getResponseCode();
                        try (InputStream in = status == 200 ? conn.getInputStream() : conn.getErrorStream()) {
                            while (in != null && in.read(buf) >= 0) {
                                // drain, so the connection goes back to the keep-alive pool
                            }
                        }
                        nanos[i] = System.nanoTime() - t0;
                        if (status != 200) {
                            throw new IOException("GET " + url + " answered " + status);
                        }
                    }
                } catch (Exception e) {
                    failure.compareAndSet(null, e);
                }
            }, "bench-client-" + c);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        long start = System.nanoTime();
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (failure.get() != null) {
            throw failure.get();
        }
        Stats s = new Stats(nanos, total);
        return new Run(s.percentileMillis(50), s.percentileMillis(99), total / seconds);
    }
}
