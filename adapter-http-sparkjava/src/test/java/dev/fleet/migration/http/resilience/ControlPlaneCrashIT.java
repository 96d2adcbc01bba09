package dev.fleet.migration.http.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.http.TestHttp;
import dev.fleet.migration.store.jdbc.SqliteMigrationStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 9, "control-plane crash": {@code fleet serve} runs as its own process from the runnable
 * jar, over a SQLite store, with the agents of node a and node b (real Docker engines) in this
 * JVM. Per point, a batch of migrations is driven through {@code POST .../advance} from one thread
 * each; the test-only crash points ({@code FLEET_TEST_CRASH_AT}, mode {@code hang}, see {@code
 * CrashPoints}) stop every one of them at its exact place in the tick; then the process gets a
 * real SIGKILL, and a new control plane starts on the same store and config with its scheduler
 * on; it aborts every other migration at once and lets the rest run. Every migration must end
 * DONE, or FAILED with both nodes holding what they held before; at
 * no poll (every 50 ms) may both engines run one app; every volume's content hash must be intact.
 *
 * <p>Trials per point: {@code -Dfleet.crash.trials=N} (or {@code FLEET_CRASH_TRIALS}), run in
 * batches of at most {@code fleet.crash.batch} (default 10) per kill. The soak, 100 per point
 * with the engines it needs started and stopped around it: {@code bash scripts/soak.sh}
 * (docs/crash-trials.md). Each trial's outcome is
 * appended to {@code target/crash-trials.tsv}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ControlPlaneCrashIT {
    private static final int TRIALS = setting("fleet.crash.trials", "FLEET_CRASH_TRIALS", 10);
    private static final int BATCH = setting("fleet.crash.batch", "FLEET_CRASH_BATCH", 10);
    private static final Pattern PARKED = Pattern.compile("fleet-test-crash-point (\\S+) (\\S+)");

    private static int setting(String property, String variable, int def) {
        return Integer.getInteger(property, Integer.parseInt(System.getenv().getOrDefault(variable, String.valueOf(def))));
    }

    /** Where the control plane is killed; a batch spreads its migrations over the point's crash points. */
    enum Point {
        PENDING(MigrationState.PENDING, "preflighted"),
        SNAPSHOTTING(MigrationState.SNAPSHOTTING, "saved:SNAPSHOTTING", "submitted:SNAPSHOT"),
        TRANSFERRING(MigrationState.TRANSFERRING, "saved:TRANSFERRING", "submitted:TRANSFER"),
        RESTORING(MigrationState.RESTORING, "saved:RESTORING", "submitted:RESTORE"),
        CUTOVER(MigrationState.CUTOVER, "saved:CUTOVER", "submitted:STOP_SOURCE", "submitted:START_TARGET",
                "submitted:RETIRE_SOURCE"),
        DONE(MigrationState.DONE, "saved:DONE"),
        /** Between "agent acknowledged" and "state saved", for each operation in turn. */
        ACKNOWLEDGED_NOT_SAVED(null, "acknowledged:SNAPSHOT", "acknowledged:TRANSFER", "acknowledged:RESTORE",
                "acknowledged:STOP_SOURCE", "acknowledged:START_TARGET", "acknowledged:RETIRE_SOURCE");

        final MigrationState state;
        final List<String> points;

        Point(MigrationState state, String... points) {
            this.state = state;
            this.points = List.of(points);
        }

        /** The crash setting for a batch of k: the points in flow order, k spread over them. */
        String spec(int k, int batch) {
            List<String> parts = new ArrayList<>();
            int n = points.size();
            for (int i = 0; i < n; i++) {
                int quota = k / n + (Math.floorMod(i - batch, n) < k % n ? 1 : 0);
                if (quota > 0) {
                    parts.add(points.get(i) + "*" + quota);
                }
            }
            return String.join(",", parts);
        }
    }

    private ResilienceFleet fleet;
    private final List<String> results = new ArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @BeforeAll
    void startAgents() throws IOException {
        fleet = new ResilienceFleet("crash");
    }

    @AfterAll
    void stopAgents() throws Exception {
        pool.shutdownNow();
        if (fleet != null) {
            fleet.close();
        }
        Path tsv = Path.of("target", "crash-trials.tsv");
        Files.createDirectories(tsv.getParent());
        Files.write(tsv, results, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @ParameterizedTest(name = "SIGKILL {0}, then restart: DONE, or FAILED with both nodes as they were")
    @EnumSource(Point.class)
    @DisplayName("the control plane killed at each point and restarted")
    void killedAndRestarted(Point point) throws Exception {
        int done = 0;
        for (int batch = 0; done < TRIALS; batch++) {
            int k = Math.min(BATCH, TRIALS - done);
            batch(point, batch, k);
            done += k;
        }
    }

    private void batch(Point point, int batch, int k) throws Exception {
        long t0 = System.nanoTime();
        List<ResilienceFleet.App> apps = parallel(k, i -> fleet.deploy("crash"));
        List<String> names = apps.stream().map(ResilienceFleet.App::name).toList();
        Map<String, TreeMap<String, String>> beforeA = Docker.views(fleet.dockerA, names);
        Map<String, TreeMap<String, String>> beforeB = Docker.views(fleet.dockerB, names);
        Map<String, String> hash = new HashMap<>();
        for (ResilienceFleet.App app : apps) {
            TreeMap<String, String> a = beforeA.get(app.name());
            assertThat(beforeB.get(app.name())).isEmpty();
            hash.put(app.name(), a.get("volume " + app.name() + "-data"));
            assertThat(hash.get(app.name())).isNotNull();
        }
        int port = ResilienceFleet.freePort();
        Path db = fleet.dir.resolve("crash-" + point + "-" + batch + ".db");
        String store = "store: {path: " + db + "}";
        Path stepped = fleet.writeConfig("crash-" + point + "-" + batch + "-first.yaml", fleet.config(store, port, "0s"));
        Path scheduled = fleet.writeConfig("crash-" + point + "-" + batch + ".yaml", fleet.config(store, port, "100ms"));
        String spec = point.spec(k, batch);
        CopyWatch watch = new CopyWatch(fleet, apps.stream().map(ResilienceFleet.App::name)
                .collect(Collectors.toSet())).start();
        Map<String, ResilienceFleet.App> byId = new LinkedHashMap<>();
        Map<String, String> parkedAt = new HashMap<>();
        Map<String, MigrationState> killedIn = new HashMap<>();
        Map<String, JsonNode> end = new HashMap<>();
        java.util.Set<String> aborted = new java.util.HashSet<>();
        try {
            ControlPlaneProcess first = fleet.serve(stepped, port,
                    Map.of("FLEET_TEST_CRASH_AT", spec, "FLEET_TEST_CRASH_MODE", "hang"));
            for (ResilienceFleet.App app : apps) {
                String id = TestHttp.send("POST", first.url() + "/api/migrations", ResilienceFleet.OPERATOR,
                        "{\"app\":\"" + app.name() + "\",\"source\":\"a\",\"target\":\"b\"}").json().get("id").asText();
                byId.put(id, app);
            }
            // one thread per migration, each ticking it through the API until its crash point holds it
            List<Future<?>> drivers = new ArrayList<>();
            for (String id : byId.keySet()) {
                drivers.add(pool.submit(() -> drive(first, id)));
            }
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (parked(first).size() < k && System.nanoTime() < deadline) {
                for (Future<?> d : drivers) {
                    if (d.isDone()) {
                        d.get(); // a migration that ended before its point fails the batch here
                    }
                }
                Thread.sleep(20);
            }
            parkedAt.putAll(parked(first));
            assertThat(parkedAt).as("every migration held at its crash point (%s):%n%s", spec, first.tail())
                    .hasSize(k);
            first.kill();
            drivers.forEach(d -> d.cancel(true));
            for (String id : byId.keySet()) {
                killedIn.put(id, stateIn(db, id));
                if (point.state != null) {
                    assertThat(killedIn.get(id)).as("killed at %s", parkedAt.get(id)).isEqualTo(point.state);
                }
            }
            ControlPlaneProcess second = fleet.serve(scheduled, port, Map.of());
            try {
                // every other migration is aborted at once by the restarted control plane: it must
                // end FAILED with both nodes as they were (or DONE, if it got there first)
                int i = 0;
                for (String id : byId.keySet()) {
                    if (i++ % 2 == 1) {
                        int status = ResilienceFleet.post(second.url() + "/api/migrations/" + id + "/fail",
                                "{\"reason\":\"crash test: abort after restart\"}");
                        assertThat(status).as("abort of %s", id).isIn(200, 409);
                        aborted.add(id);
                    }
                }
                for (String id : byId.keySet()) {
                    end.put(id, ResilienceFleet.awaitEnd(second.url(), id, Duration.ofMinutes(3)));
                }
            } finally {
                second.stop();
            }
        } finally {
            watch.stop();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        Map<String, TreeMap<String, String>> viewsA = Docker.views(fleet.dockerA, names);
        Map<String, TreeMap<String, String>> viewsB = Docker.views(fleet.dockerB, names);
        for (Map.Entry<String, ResilienceFleet.App> e : byId.entrySet()) {
            String id = e.getKey();
            ResilienceFleet.App app = e.getValue();
            String state = end.get(id).get("state").asText();
            String why = parkedAt.get(id) + " (batch " + batch + ") of " + app.name() + ": " + end.get(id);
            assertThat(watch.violations(app.name())).as("never two running copies: " + why).isEmpty();
            TreeMap<String, String> afterA = viewsA.get(app.name());
            TreeMap<String, String> afterB = viewsB.get(app.name());
            String volume = "volume " + app.name() + "-data";
            if (state.equals("done")) {
                assertThat(afterB.get("container " + app.name())).as(why).startsWith("running=true ");
                assertThat(afterB.get(volume)).as("volume intact on b: " + why).isEqualTo(hash.get(app.name()));
                assertThat(afterA.get(volume)).as("source volume kept: " + why).isEqualTo(hash.get(app.name()));
                assertThat(afterA.values()).as("nothing runs on a: " + why).noneMatch(v -> v.startsWith("running=true"));
            } else {
                assertThat(state).as(why).isEqualTo("failed");
                assertThat(afterA).as("node a as before: " + why).isEqualTo(beforeA.get(app.name()));
                assertThat(afterB).as("node b as before (nothing of it): " + why).isEmpty();
            }
            assertThat(ResilienceFleet.httpGet(app.port())).as(why).isEqualTo("served by " + app.name() + "\n");
            results.add(String.join("\t", point.name(), parkedAt.get(id), String.valueOf(batch),
                    killedIn.get(id).name(), aborted.contains(id) ? "abort" : "resume", state, String.valueOf(watch.polls()), String.valueOf(ms)));
        }
        System.out.printf("crash batch %s #%d (%s): %d migrations killed in %s, ended %s, %d polls, %d ms%n", point,
                batch, spec, k, killedIn.values(), end.values().stream().map(j -> j.get("state").asText()).toList(),
                watch.polls(), ms);
        fleet.remove(apps);
    }

    /** Ticks a migration through the API until it ends or its control plane is gone. */
    private static void drive(ControlPlaneProcess cp, String id) {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                JsonNode m = TestHttp.send("POST", cp.url() + "/api/migrations/" + id + "/advance",
                        ResilienceFleet.OPERATOR, null).json();
                if (m.has("active") && !m.get("active").asBoolean()) {
                    throw new AssertionError("migration " + id + " ended before its crash point: " + m);
                }
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // held at its crash point (the request times out) or killed: ask again, or stop when interrupted
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
            }
        }
    }

    /** Migration id to the crash point it is held at, as the control plane reported them. */
    private static Map<String, String> parked(ControlPlaneProcess cp) {
        Map<String, String> out = new HashMap<>();
        Matcher m = PARKED.matcher(cp.logText());
        while (m.find()) {
            out.put(m.group(2), m.group(1));
        }
        return out;
    }

    private <T> List<T> parallel(int n, java.util.function.IntFunction<T> work) throws Exception {
        List<Future<T>> fs = new ArrayList<>();
        ExecutorService few = Executors.newFixedThreadPool(4);
        try {
            for (int i = 0; i < n; i++) {
                int index = i;
                fs.add(few.submit(() -> work.apply(index)));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : fs) {
                out.add(f.get());
            }
            return out;
        } finally {
            few.shutdownNow();
        }
    }

    private static MigrationState stateIn(Path db, String id) {
        try (SqliteMigrationStore store = SqliteMigrationStore.open(db)) {
            return store.find(MigrationId.of(id)).map(Migration::state).orElseThrow();
        }
    }
}
