package dev.fleet.migration.http.api;

import static dev.fleet.migration.http.TestFleets.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.Compensation;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationEvent;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.StateMachine;
import dev.fleet.migration.http.ListedFleet;
import dev.fleet.migration.http.wire.Json;
import dev.fleet.migration.store.jdbc.SqliteMigrationStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The listing keeps whole answers while the store's change stamp holds: a write through this
 * control plane's API shows in the very next answer; one by another process writing the same
 * SQLite file within about 20 ms.
 */
class ListingCacheTest {
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    private Path dir;
    private ListedFleet fleet;
    /** Another control plane's store on the same file. */
    private SqliteMigrationStore other;

    @BeforeEach
    void start() throws IOException {
        dir = Files.createTempDirectory("fleet-listing-cache-");
        fleet = new ListedFleet(dir, 10);
        other = SqliteMigrationStore.open(dir.resolve("listed.db"));
    }

    @AfterEach
    void stop() throws IOException {
        other.close();
        fleet.close();
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(java.io.File::delete);
        }
    }

    private HttpResponse<String> send(String method, String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create(fleet.cp.url() + path))
                .header("Authorization", "Bearer " + OPERATOR).header("Content-Type", "application/json")
                .method(method, method.equals("POST") ? HttpRequest.BodyPublishers.ofString("{\"reason\":\"test\"}")
                        : HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode list(String query) throws Exception {
        HttpResponse<String> r = send("GET", "/api/migrations" + query);
        assertThat(r.statusCode()).isEqualTo(200);
        return Json.parse(r.body());
    }

    private static String state(JsonNode page, String id) {
        for (JsonNode m : page) {
            if (m.get("id").asText().equals(id)) {
                return m.get("state").asText();
            }
        }
        return null;
    }

    @Test
    @DisplayName("a write by another process on the same database shows within moments")
    void anotherProcessesWriteShows() throws Exception {
        assertThat(state(list(""), "m-0005")).isEqualTo("snapshotting");
        assertThat(state(list(""), "m-0005")).isEqualTo("snapshotting"); // kept now

        Migration m = other.find(MigrationId.of("m-0005")).orElseThrow();
        other.update(StateMachine.apply(m, new MigrationEvent.Failed("failed elsewhere", Compensation.NOT_NEEDED),
                Clock.systemUTC()).get());
        assertThat(shows("", "m-0005", "failed")).isTrue();

        other.insert(Migration.create(MigrationId.of("m-late"), AppRef.container("late"), NodeId.of("a"),
                NodeId.of("b"), 1, Instant.parse("2026-06-01T00:00:00Z")));
        assertThat(shows("", "m-late", "pending")).isTrue();
        HttpResponse<String> r = send("GET", "/api/migrations");
        assertThat(Json.parse(r.body()).get(0).get("id").asText()).isEqualTo("m-late");
        assertThat(r.headers().firstValue("X-Total-Count")).contains("11");
    }

    /** Another process's write shows within about 20 ms (the store rereads SQLite's data version that often). */
    private boolean shows(String query, String id, String state) throws Exception {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (state.equals(state(list(query), id))) {
                return true;
            }
            Thread.sleep(5);
        }
        return false;
    }

    @Test
    @DisplayName("an abort through the API shows in the next answer, on every cached page")
    void ownWriteShows() throws Exception {
        assertThat(state(list(""), "m-0000")).isEqualTo("snapshotting");
        assertThat(state(list("?state=active"), "m-0000")).isEqualTo("snapshotting");

        assertThat(send("POST", "/api/migrations/m-0000/fail").statusCode()).isLessThan(300);

        assertThat(state(list(""), "m-0000")).isIn("failed", "compensating");
        assertThat(state(list("?state=active"), "m-0000")).isNotEqualTo("snapshotting");
    }
}
