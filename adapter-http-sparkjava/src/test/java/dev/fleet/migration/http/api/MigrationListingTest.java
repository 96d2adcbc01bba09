package dev.fleet.migration.http.api;

import static dev.fleet.migration.http.TestFleets.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.http.ListedFleet;
import dev.fleet.migration.http.wire.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code GET /api/migrations} over a SQLite store of 250 migrations (50 active, 200 failed):
 * pages, totals, links, filters, and a 400 naming the parameter for every bad one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MigrationListingTest {
    private static final Pattern LINK = Pattern.compile("<([^>]+)>; rel=\"([a-z]+)\"");
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    private Path dir;
    private ListedFleet fleet;

    record Page(int status, String contentType, JsonNode json, long total, Map<String, String> links) {
        List<String> ids() {
            List<String> ids = new ArrayList<>();
            json.forEach(m -> ids.add(m.get("id").asText()));
            return ids;
        }
    }

    @BeforeAll
    void start() throws IOException {
        dir = Files.createTempDirectory("fleet-listing-");
        fleet = new ListedFleet(dir, 250);
    }

    @AfterAll
    void stop() throws IOException {
        fleet.close();
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(java.io.File::delete);
        }
    }

    private Page get(String pathAndQuery) {
        try {
            HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create(fleet.cp.url() + pathAndQuery))
                    .header("Authorization", "Bearer " + OPERATOR).build(), HttpResponse.BodyHandlers.ofString());
            Map<String, String> links = new LinkedHashMap<>();
            Matcher m = LINK.matcher(r.headers().firstValue("Link").orElse(""));
            while (m.find()) {
                links.put(m.group(2), m.group(1));
            }
            return new Page(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), Json.parse(r.body()),
                    r.headers().firstValueAsLong("X-Total-Count").orElse(-1), links);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String id(int i) {
        return String.format("m-%04d", i);
    }

    @Test
    @DisplayName("without parameters: a JSON array of the newest 50, X-Total-Count 250, and next and last links")
    void defaultPageIsTheNewestHundred() {
        Page p = get("/api/migrations");
        assertThat(p.status()).isEqualTo(200);
        assertThat(p.contentType()).startsWith("application/json");
        assertThat(p.json().isArray()).isTrue();
        assertThat(p.ids()).hasSize(50).startsWith(id(249), id(248)).endsWith(id(200));
        assertThat(p.total()).isEqualTo(250);
        assertThat(p.links()).containsOnlyKeys("next", "last");
        assertThat(p.links().get("next")).isEqualTo("/api/migrations?limit=50&offset=50");
        assertThat(p.links().get("last")).isEqualTo("/api/migrations?limit=50&offset=200");
    }

    @Test
    @DisplayName("following rel=next from limit=40 reads every migration once, newest first, and stops")
    void followingNextReadsEverythingOnce() {
        List<String> read = new ArrayList<>();
        String next = "/api/migrations?limit=40";
        int pages = 0;
        while (next != null) {
            Page p = get(next);
            assertThat(p.status()).isEqualTo(200);
            assertThat(p.total()).isEqualTo(250);
            assertThat(p.json().size()).isLessThanOrEqualTo(40);
            read.addAll(p.ids());
            next = p.links().get("next");
            pages++;
        }
        assertThat(pages).isEqualTo(7);
        List<String> expected = new ArrayList<>();
        for (int i = 249; i >= 0; i--) {
            expected.add(id(i));
        }
        assertThat(read).isEqualTo(expected);
    }

    @Test
    @DisplayName("a middle page links to prev, first, next and last with the same filter and limit")
    void middlePageLinksEveryWay() {
        Page p = get("/api/migrations?state=failed&limit=30&offset=60");
        assertThat(p.total()).isEqualTo(200);
        assertThat(p.json().size()).isEqualTo(30);
        assertThat(p.links()).containsEntry("prev", "/api/migrations?state=failed&limit=30&offset=30")
                .containsEntry("first", "/api/migrations?state=failed&limit=30&offset=0")
                .containsEntry("next", "/api/migrations?state=failed&limit=30&offset=90")
                .containsEntry("last", "/api/migrations?state=failed&limit=30&offset=180");
        Page past = get("/api/migrations?offset=250");
        assertThat(past.status()).isEqualTo(200);
        assertThat(past.json().size()).isZero();
        assertThat(past.total()).isEqualTo(250);
        assertThat(past.links()).doesNotContainKey("next");
    }

    @Test
    @DisplayName("state=active holds all 50 active ones in one page; terminal, a state list and app filter too")
    void filtersSelectBeforePaging() {
        Page active = get("/api/migrations?state=active&limit=1000");
        assertThat(active.total()).isEqualTo(50);
        assertThat(active.ids()).hasSize(50).startsWith(id(245), id(240)).endsWith(id(0));
        active.json().forEach(m -> assertThat(m.get("state").asText()).isEqualTo("snapshotting"));
        assertThat(active.links()).isEmpty();

        Page terminal = get("/api/migrations?state=terminal&limit=3");
        assertThat(terminal.ids()).containsExactly(id(249), id(248), id(247));
        assertThat(terminal.total()).isEqualTo(200);

        Page list = get("/api/migrations?state=pending,snapshotting&limit=2");
        assertThat(list.ids()).containsExactly(id(245), id(240));
        assertThat(list.total()).isEqualTo(50);
        assertThat(list.links().get("next")).isEqualTo("/api/migrations?state=active&limit=2&offset=2".replace(
                "state=active", "state=pending,snapshotting"));

        Page app = get("/api/migrations?app=app-0007");
        assertThat(app.ids()).containsExactly(id(7));
        assertThat(app.total()).isEqualTo(1);
        Page none = get("/api/migrations?app=compose:app-0007&state=failed");
        assertThat(none.ids()).isEmpty();
        assertThat(none.total()).isZero();
    }

    @Test
    @DisplayName("rows are summaries (what a row shows, a link to the whole); view=full gives the records GET {id} gives")
    void summariesByDefaultWholeRecordsOnRequest() {
        JsonNode summary = get("/api/migrations?app=app-0003").json().get(0);
        assertThat(summary.get("id").asText()).isEqualTo(id(3));
        assertThat(summary.get("state").asText()).isEqualTo("failed");
        assertThat(summary.get("failure").get("reason").asText()).isEqualTo("seeded 3");
        assertThat(summary.get("failure").get("failedIn").asText()).isEqualTo("pending");
        assertThat(summary.get("progress").has("fraction")).isTrue();
        assertThat(summary.get("links").get("self").asText()).isEqualTo("/api/migrations/" + id(3));
        assertThat(summary.has("steps")).isFalse();

        JsonNode whole = get("/api/migrations/" + id(3)).json();
        Page full = get("/api/migrations?app=app-0003&view=full");
        assertThat(full.json().get(0)).isEqualTo(whole);
        summary.fieldNames().forEachRemaining(f -> {
            if (!f.equals("failure") && !f.equals("links")) {
                assertThat(summary.get(f)).as(f).isEqualTo(whole.get(f));
            }
        });
        assertThat(get("/api/migrations?view=full&limit=10").links().get("next"))
                .isEqualTo("/api/migrations?limit=10&offset=10&view=full");
    }

    static Stream<Arguments> badParameters() {
        return Stream.of(
                Arguments.of("limit=0", "limit", "limit must be a whole number from 1 to 1000, but was '0'"),
                Arguments.of("limit=1001", "limit", "limit must be a whole number from 1 to 1000, but was '1001'"),
                Arguments.of("limit=ten", "limit", "limit must be a whole number from 1 to 1000, but was 'ten'"),
                Arguments.of("limit=99999999999999999999", "limit", "but was '99999999999999999999'"),
                Arguments.of("offset=-1", "offset", "offset must be a whole number, 0 or more, but was '-1'"),
                Arguments.of("state=running", "state", "state must be active, terminal, or states among pending,"),
                Arguments.of("state=active,", "state", "but was 'active,'"),
                Arguments.of("app=../x", "app", "app must be an app id (a container name or compose:<project>):"
                        + " appId must match"),
                Arguments.of("limt=5", "limt", "unknown query parameter 'limt'; the listing takes app, limit, offset,"
                        + " state, view"),
                Arguments.of("view=everything", "view", "view must be summary or full, but was 'everything'"),
                Arguments.of("limit=5&limit=6", "limit", "limit is given 2 times; give it once"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badParameters")
    @DisplayName("a bad query parameter answers 400 problem+json that names it")
    void badParameterAnswers400NamingIt(String query, String parameter, String detail) {
        Page p = get("/api/migrations?" + query);
        assertThat(p.status()).isEqualTo(400);
        assertThat(p.contentType()).startsWith("application/problem+json");
        assertThat(p.json().get("type").asText()).isEqualTo("urn:fleet:problem:invalid-query-parameter");
        assertThat(p.json().get("title").asText()).isEqualTo("Invalid query parameter");
        assertThat(p.json().get("status").asInt()).isEqualTo(400);
        assertThat(p.json().get("parameter").asText()).isEqualTo(parameter);
        assertThat(p.json().get("detail").asText()).contains(detail);
        assertThat(p.total()).isEqualTo(-1);
    }
}
