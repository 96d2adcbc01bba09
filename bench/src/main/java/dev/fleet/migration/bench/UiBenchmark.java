package dev.fleet.migration.bench;

import dev.fleet.migration.http.ControlPlane;
import dev.fleet.migration.store.jdbc.SqliteMigrationStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Issue 6's Control Panel benchmark: the panel's first paint with 1,000 rows in Debian's
 * headless Chromium (driven by Selenium with explicit paths, so nothing is downloaded), against
 * a control plane over a SQLite store of 10,000 migrations, 900 of them active: the panel shows
 * every active migration and the newest 100 finished ones, 1,000 rows.
 *
 * <p>What is measured, per page load: {@code window.fleetPanel.firstRowsMs}, which the page
 * sets to {@code performance.now()} (milliseconds since navigation start) in a task queued from
 * the first {@code requestAnimationFrame} after its first render of the table: the rows have been
 * fetched, built, laid out and painted. Beside it the Paint Timing API's
 * {@code first-contentful-paint} (the header, before any data). The baseline is the same
 * measurement on an empty panel (a control plane over an empty store). Each figure is the
 * median of several loads after two warm-up loads.
 *
 * <p>Target: ≤ 1 s.
 */
final class UiBenchmark implements Benchmark {
    static final Path CHROMIUM = Path.of(System.getProperty("bench.chromium", "/usr/bin/chromium"));
    static final Path CHROMEDRIVER = Path.of(System.getProperty("bench.chromedriver", "/usr/bin/chromedriver"));
    private final int migrations = Integer.getInteger("bench.ui.migrations", 10_000);
    private final int active = Integer.getInteger("bench.ui.active", 900);
    private final int loads = Integer.getInteger("bench.ui.loads", 7);

    @Override
    public String name() {
        return "ui";
    }

    @Override
    public List<Figure> run() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            throw new IllegalStateException("the ui benchmark needs headless Chromium: install the Debian packages"
                    + " 'chromium' and 'chromium-driver' (" + CHROMIUM + " and " + CHROMEDRIVER + ")");
        }
        Path dir = Files.createTempDirectory("fleet-bench-ui");
        ChromeDriverService service = null;
        ChromeDriver driver = null;
        try {
            SeededStore.Seeded seeded = SeededStore.seed(dir.resolve("migrations.db"), migrations, active);
            int expectedRows = seeded.active() + Math.min(100, seeded.total() - seeded.active());
            service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                    .usingAnyFreePort().build();
            ChromeOptions options = new ChromeOptions();
            options.setBinary(CHROMIUM.toFile());
            options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-dev-shm-usage", "--window-size=1400,900",
                    "--user-data-dir=" + Files.createDirectories(dir.resolve("profile")));
            driver = new ChromeDriver(service, options);
            Loads empty;
            Loads full;
            try (SqliteMigrationStore none = SqliteMigrationStore.open(dir.resolve("empty.db"));
                 ControlPlane emptyCp = HttpBenchmark.controlPlane(none);
                 SqliteMigrationStore store = SqliteMigrationStore.open(seeded.file());
                 ControlPlane cp = HttpBenchmark.controlPlane(store)) {
                empty = measure(driver, emptyCp.url(), 0);
                full = measure(driver, cp.url(), expectedRows);
            }
            String bench = "ui: Control Panel in headless Chromium, " + migrations + " migrations in SQLite";
            String rows = expectedRows + " rows";
            return List.of(
                    new Figure(bench, "first paint with " + rows + " (rows painted, ms since navigation)",
                            full.rowsMs, "ms", empty.rowsMs, "empty panel, same measure", "≤ 1000 ms",
                            full.rowsMs <= 1000),
                    new Figure(bench, "first-contentful-paint with " + rows, full.fcpMs, "ms", empty.fcpMs,
                            "empty panel first-contentful-paint", "—", true));
        } finally {
            if (driver != null) {
                driver.quit();
            }
            if (service != null) {
                service.stop();
            }
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private record Loads(double rowsMs, double fcpMs) {}

    private Loads measure(ChromeDriver driver, String base, int expectedRows) throws InterruptedException {
        driver.get(base + "/");
        driver.executeScript("sessionStorage.setItem('fleet.operatorToken', arguments[0])", HttpBenchmark.token());
        List<Double> rows = new ArrayList<>();
        List<Double> fcp = new ArrayList<>();
        for (int i = 0; i < loads + 2; i++) {
            // a long refresh interval: the first render is what is measured
            driver.get(base + "/?refresh=600000");
            Map<?, ?> r = awaitFirstRows(driver);
            int shown = ((Number) r.get("rows")).intValue();
            if (shown != expectedRows) {
                throw new IllegalStateException("the panel at " + base + " shows " + shown + " rows, expected "
                        + expectedRows);
            }
            if (i >= 2) {
                System.out.printf(Locale.ROOT, "    load %d: data %.0f ms, in the DOM %.0f ms, painted %.0f ms%n", i - 1,
                        ((Number) r.get("dataMs")).doubleValue(), ((Number) r.get("builtMs")).doubleValue(),
                        ((Number) r.get("firstRowsMs")).doubleValue());
                rows.add(((Number) r.get("firstRowsMs")).doubleValue());
                fcp.add(r.get("fcp") == null ? Double.NaN : ((Number) r.get("fcp")).doubleValue());
            }
        }
        Loads l = new Loads(median(rows), median(fcp));
        System.out.printf(Locale.ROOT, "  %-40s rows painted %s ms (median %.0f), fcp median %.0f ms%n",
                expectedRows + " rows at " + base, rows.stream().map(d -> String.format(Locale.ROOT, "%.0f", d))
                        .toList(), l.rowsMs, l.fcpMs);
        return l;
    }

    private static Map<?, ?> awaitFirstRows(ChromeDriver driver) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Object r = ((JavascriptExecutor) driver).executeScript("""
                    var p = window.fleetPanel;
                    if (!p || p.firstRowsMs === null) return null;
                    var f = performance.getEntriesByName('first-contentful-paint')[0];
                    return {firstRowsMs: p.firstRowsMs, rows: document.querySelectorAll('#rows tr').length,
                            fcp: f ? f.startTime : null, dataMs: p.firstDataMs, builtMs: p.firstBuiltMs};""");
            if (r instanceof Map<?, ?> m) {
                return m;
            }
            Thread.sleep(20); // polls the page until its first render was painted
        }
        throw new IllegalStateException("the Control Panel did not render its table within 60 s");
    }

    private static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length == 0 ? Double.NaN : a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
