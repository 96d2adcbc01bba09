package dev.fleet.migration.http.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.http.TestHttp;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 9, "scale-out": two {@code fleet serve} processes share one PostgreSQL database (the
 * server scripts/ci/services/postgres.sh starts; {@code store: {kind: postgres}} in the config).
 * Each migration is ticked by the replica that holds its lease, so while both live no epoch
 * moves; then one replica is killed (SIGKILL) in the middle of its migrations, and the other
 * adopts them once their leases expired — one new epoch each — and finishes them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReplicatedControlPlaneIT {
    private ResilienceFleet fleet;

    @BeforeAll
    void startAgents() throws Exception {
        fleet = new ResilienceFleet("replicas");
    }

    @AfterAll
    void stopAgents() throws Exception {
        if (fleet != null) {
            fleet.close();
        }
    }

    private static String schemaUrl() throws Exception {
        String schema = "r_" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36);
        try (Connection c = connect(ResilienceFleet.env("FLEET_TEST_PG_URL")); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        return ResilienceFleet.env("FLEET_TEST_PG_URL") + "?currentSchema=" + schema;
    }

    private static Connection connect(String url) throws Exception {
        return DriverManager.getConnection(url, ResilienceFleet.env("FLEET_TEST_PG_USER"),
                ResilienceFleet.env("FLEET_TEST_PG_PASSWORD"));
    }

    private String store(String url, String replica) {
        return "store: {kind: postgres, url: \"" + url + "\", user: " + ResilienceFleet.env("FLEET_TEST_PG_USER")
                + ", password: \"env:FLEET_TEST_PG_PASSWORD\", replica: " + replica + ", leaseTtl: 5s}";
    }

    @Test
    @DisplayName("two replicas on PostgreSQL: one ticker per migration, no epoch ping-pong; a killed replica's migrations are finished by the other")
    void theSurvivorFinishesTheKilledReplicasMigrations() throws Exception {
        String url = schemaUrl();
        int port1 = ResilienceFleet.freePort();
        int port2 = ResilienceFleet.freePort();
        Path c1 = fleet.writeConfig("replica-1.yaml", fleet.config(store(url, "cp-1"), port1, "200ms"));
        Path c2 = fleet.writeConfig("replica-2.yaml", fleet.config(store(url, "cp-2"), port2, "200ms"));
        List<ResilienceFleet.App> apps = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            apps.add(fleet.deploy("replica"));
        }
        Map<String, String> hash = new LinkedHashMap<>();
        for (ResilienceFleet.App app : apps) {
            hash.put(app.name(), Docker.volumeHash(fleet.dockerA, app.name() + "-data"));
        }
        CopyWatch watch = new CopyWatch(fleet, apps.stream().map(ResilienceFleet.App::name).collect(Collectors.toSet()));
        // replica 1 stops its ticking thread when one of its migrations has asked for a restore; then it is killed
        ControlPlaneProcess one = fleet.serve(c1, port1, Map.of("FLEET_TEST_CRASH_AT", "submitted:RESTORE*1",
                "FLEET_TEST_CRASH_MODE", "hang"));
        ControlPlaneProcess two = fleet.serve(c2, port2, Map.of());
        watch.start();
        Map<String, String> ownerOf = new LinkedHashMap<>(); // migration id -> replica that created it
        for (int i = 0; i < apps.size(); i++) {
            ControlPlaneProcess cp = i % 2 == 0 ? one : two;
            String id = TestHttp.send("POST", cp.url() + "/api/migrations", ResilienceFleet.OPERATOR,
                    "{\"app\":\"" + apps.get(i).name() + "\",\"source\":\"a\",\"target\":\"b\"}").json().get("id").asText();
            ownerOf.put(id, i % 2 == 0 ? "cp-1" : "cp-2");
        }
        one.awaitCrashPoint("submitted:RESTORE", Duration.ofMinutes(2));
        Instant killed = Instant.now();
        one.kill();
        Map<String, JsonNode> end = new LinkedHashMap<>();
        for (String id : ownerOf.keySet()) {
            end.put(id, ResilienceFleet.awaitEnd(two.url(), id, Duration.ofMinutes(3)));
        }
        watch.stop();
        Map<String, List<JsonNode>> histories = new LinkedHashMap<>();
        for (String id : ownerOf.keySet()) {
            List<JsonNode> history = new ArrayList<>();
            TestHttp.send("GET", two.url() + "/api/migrations/" + id + "/history", ResilienceFleet.OPERATOR, null)
                    .json().forEach(history::add);
            histories.put(id, history);
        }
        two.stop();

        for (int i = 0; i < apps.size(); i++) {
            String id = new ArrayList<>(ownerOf.keySet()).get(i);
            ResilienceFleet.App app = apps.get(i);
            String why = id + " of " + ownerOf.get(id) + ": " + end.get(id);
            assertThat(end.get(id).get("state").asText()).as(why).isEqualTo("done");
            assertThat(watch.violations(app.name())).as(why).isEmpty();
            TreeMap<String, String> b = Docker.view(fleet.dockerB, app.name());
            assertThat(b.get("container " + app.name())).as(why).startsWith("running=true ");
            assertThat(b.get("volume " + app.name() + "-data")).as("volume intact: " + why).isEqualTo(hash.get(app.name()));

            List<JsonNode> history = histories.get(id);
            Set<Long> epochs = history.stream().map(h -> h.get("epoch").asLong()).collect(Collectors.toCollection(TreeSet::new));
            long created = history.get(0).get("epoch").asLong();
            if (ownerOf.get(id).equals("cp-2")) {
                assertThat(epochs).as("ticked by its creator alone, never adopted: " + why).containsExactly(created);
            } else {
                assertThat(epochs).as("adopted exactly once, after replica 1 died: " + why)
                        .containsExactly(created, created + 1);
                for (JsonNode h : history) {
                    if (h.get("epoch").asLong() == created + 1) {
                        assertThat(Instant.parse(h.get("updatedAt").asText())).as(why).isAfter(killed);
                    }
                }
                long previous = created;
                for (JsonNode h : history) {
                    assertThat(h.get("epoch").asLong()).as("the epoch never goes back: " + why).isGreaterThanOrEqualTo(previous);
                    previous = h.get("epoch").asLong();
                }
            }
        }
        try (Connection c = connect(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM migration_leases")) {
            rs.next();
            assertThat(rs.getLong(1)).as("every lease released when its migration ended").isZero();
        }
    }
}
