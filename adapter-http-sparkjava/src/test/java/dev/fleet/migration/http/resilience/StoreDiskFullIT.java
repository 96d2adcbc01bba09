package dev.fleet.migration.http.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.http.TestHttp;
import dev.fleet.migration.http.wire.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 9, "disk full under the store": the control plane ({@code fleet serve}, its own process,
 * scheduler every 200 ms) keeps its SQLite store on a small ext4 loop filesystem
 * ({@code scripts/ci/services/smallfs.sh}, {@code FLEET_TEST_SMALLFS_DIR}); both agents run in
 * this JVM on the two test engines. While a migration is active, the filesystem is filled to the
 * last block by a filler file, at an exact point: one node's agent holds the control plane's
 * status poll that reports an operation finished (a {@link HeldAgent}), the test fills the disk,
 * then lets the answer through. The control plane now has to save "finished, and the next
 * operation is starting" and cannot.
 *
 * <p>Expected: no tick is acknowledged (the migration's saved version does not move; {@code POST
 * .../advance} and {@code POST /api/migrations} answer 503 problem+json naming "no space left"
 * and the store's path, and the log says the same); no node is asked to do the next operation
 * (its journal has no entry for it); the app never runs on two nodes (polled every 50 ms); and
 * once the filler is removed the migration goes on by itself to DONE, with the volume's content
 * intact on the target.
 *
 * <p>Two points: {@code RESTORED} (the target finished restoring; next: stop the source, which
 * keeps serving meanwhile) and {@code SOURCE_STOPPED} (cutover, the source stopped; next: start
 * the target, so the app is down for as long as the store is full, and must stay down on both
 * nodes rather than run twice).
 */
class StoreDiskFullIT {
    private final Path smallFs = Path.of(ResilienceFleet.env("FLEET_TEST_SMALLFS_DIR"));

    enum Point {
        RESTORED(1, OperationKind.RESTORE, OperationKind.STOP_SOURCE, 0),
        SOURCE_STOPPED(0, OperationKind.STOP_SOURCE, OperationKind.START_TARGET, 1);

        final int heldNode;
        final OperationKind finished;
        final OperationKind next;
        final int nextNode;

        Point(int heldNode, OperationKind finished, OperationKind next, int nextNode) {
            this.heldNode = heldNode;
            this.finished = finished;
            this.next = next;
            this.nextNode = nextNode;
        }
    }

    @ParameterizedTest(name = "store full when {0}")
    @EnumSource(Point.class)
    @DisplayName("the store's disk fills up while a migration is active: nothing unsaved is acknowledged or acted on;"
            + " freed, it goes on to DONE")
    void storeFull(Point point) throws Exception {
        assertThat(smallFs).as("FLEET_TEST_SMALLFS_DIR (scripts/ci/services/smallfs.sh up)").isDirectory();
        long t0 = System.nanoTime();
        HeldAgent[] held = new HeldAgent[1];
        Path storeDir = null;
        try (ResilienceFleet fleet = new ResilienceFleet("storefull", ResilienceFleet.env("FLEET_TEST_DOCKER_B"),
                (i, agent) -> i == point.heldNode
                        ? (held[0] = new HeldAgent(agent, point.finished, HeldAgent.Where.AFTER_SUCCEEDED_STATUS))
                        : agent)) {
            storeDir = Files.createDirectories(smallFs.resolve(fleet.dir.getFileName().toString()));
            Path store = storeDir.resolve("store.db");
            Path filler = storeDir.resolve("filler");
            int port = ResilienceFleet.freePort();
            Path config = fleet.writeConfig("fleet.yaml", fleet.config("store: {path: " + store + "}", port, "200ms"));
            ControlPlaneProcess cp = fleet.serve(config, port, Map.of());
            ResilienceFleet.App app = fleet.deploy("sdisk");
            String hash = Docker.volumeHash(fleet.dockerA, app.name() + "-data");

            CopyWatch watch = new CopyWatch(fleet, Set.of(app.name())).start();
            String id;
            JsonNode end;
            String filled;
            try {
                id = TestHttp.send("POST", cp.url() + "/api/migrations", ResilienceFleet.OPERATOR,
                        "{\"app\":\"" + app.name() + "\",\"source\":\"a\",\"target\":\"b\"}").json().get("id").asText();
                if (!held[0].holding.await(3, TimeUnit.MINUTES)) {
                    throw new AssertionError("the control plane never polled " + point.finished + " finished: "
                            + ResilienceFleet.get(cp.url(), id) + "\n" + cp.tail());
                }
                // the tick waits for this answer: what the store holds now is all that was saved
                JsonNode saved = ResilienceFleet.get(cp.url(), id);
                long bytes = fill(filler);
                filled = "filled " + (bytes >> 20) + " MiB, " + Files.getFileStore(smallFs).getUsableSpace()
                        + " bytes left";
                held[0].release();

                // the control plane reports the full disk, naming it and the store, and keeps failing its ticks
                String logLine = awaitLogLines(cp, id, store, 3, Duration.ofSeconds(60));
                Map<String, String> tried = new java.util.LinkedHashMap<>();
                TestHttp.Reply advance = TestHttp.send("POST", cp.url() + "/api/migrations/" + id + "/advance",
                        ResilienceFleet.OPERATOR, null);
                assertProblem(advance, store, "advance");
                tried.put("advance", advance.json().get("detail").asText());
                TestHttp.Reply create = TestHttp.send("POST", cp.url() + "/api/migrations", ResilienceFleet.OPERATOR,
                        "{\"app\":\"" + app.name() + "-other\",\"source\":\"a\",\"target\":\"b\"}");
                assertProblem(create, store, "create");
                assertThat(TestHttp.send("GET", cp.url() + "/api/migrations", ResilienceFleet.OPERATOR, null).body())
                        .as("the refused create left no migration").doesNotContain(app.name() + "-other");

                // nothing moved: the saved record, the next operation never asked of its node
                JsonNode now = ResilienceFleet.get(cp.url(), id);
                assertThat(now.get("version").asLong()).as("saved version while full: " + now)
                        .isEqualTo(saved.get("version").asLong());
                assertThat(now.get("state").asText()).isEqualTo(saved.get("state").asText());
                assertThat(now.get("failure").isNull()).as("not failed: " + now).isTrue();
                assertThat(journal(fleet, point.nextNode, id, point.next)).as(point.next + " in the journal of node "
                        + (point.nextNode == 0 ? "a" : "b") + " while the store is full").isEmpty();
                if (point == Point.RESTORED) {
                    assertThat(Docker.running(fleet.dockerA, app.name())).as("the source serves on").containsExactly(
                            app.name());
                    assertThat(ResilienceFleet.httpGet(app.port())).contains("served by " + app.name());
                } else {
                    assertThat(Docker.running(fleet.dockerA, app.name())).as("the stopped source").isEmpty();
                }
                assertThat(Docker.running(fleet.dockerB, app.name())).as("the target, not started").isEmpty();

                // space again: the migration goes on by itself
                Files.delete(filler);
                end = ResilienceFleet.awaitEnd(cp.url(), id, Duration.ofMinutes(3));
                System.out.printf("store full when %s (%s, saved version %d in %s): log \"%s\"; API %s%n", point,
                        filled, saved.get("version").asLong(), saved.get("state").asText(), logLine, tried);
            } finally {
                watch.stop();
                Files.deleteIfExists(filler);
            }
            assertThat(end.get("state").asText()).as("after the space came back: " + end).isEqualToIgnoringCase("DONE");
            assertThat(Docker.running(fleet.dockerB, app.name())).containsExactly(app.name());
            assertThat(Docker.running(fleet.dockerA, app.name())).as("nothing of the app runs on a").isEmpty();
            assertThat(Docker.volumeHash(fleet.dockerB, app.name() + "-data")).as("the volume on b").isEqualTo(hash);
            assertThat(Docker.volumeHash(fleet.dockerA, app.name() + "-data")).as("the source's kept volume")
                    .isEqualTo(hash);
            assertThat(ResilienceFleet.httpGet(app.port())).contains("served by " + app.name());
            assertThat(watch.violations(app.name())).as("two copies (" + watch.polls() + " polls)").isEmpty();
            System.out.printf("store full when %s: DONE in %d ms, %d polls, never two copies%n", point,
                    (System.nanoTime() - t0) / 1_000_000, watch.polls());
        } finally {
            if (held[0] != null) {
                held[0].release();
            }
            if (storeDir != null) {
                try (Stream<Path> all = Files.walk(storeDir)) {
                    for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    /**
     * Fills the filesystem of {@code filler} to its last block: writes until the kernel says
     * ENOSPC, syncs (delayed allocation may hand back what it had reserved), and writes again,
     * in smaller pieces, until nothing more fits. Returns the bytes written.
     */
    static long fill(Path filler) throws IOException {
        long total = 0;
        try (FileChannel ch = FileChannel.open(filler, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
            java.util.concurrent.ThreadLocalRandom.current().nextBytes(chunk.array());
            for (int round = 0; round < 20; round++) {
                long before = total;
                for (int size = 1 << 20; size >= 512; size /= 4) {
                    while (true) {
                        ByteBuffer b = chunk.duplicate().limit(size);
                        try {
                            while (b.hasRemaining()) {
                                total += ch.write(b);
                            }
                        } catch (IOException full) {
                            break;
                        }
                    }
                }
                try {
                    ch.force(true);
                } catch (IOException e) {
                    // nothing to sync that could fail for good: the data written is on disk or counted
                }
                if (total == before) {
                    return total;
                }
            }
        }
        return total;
    }

    /** Waits until the control plane logged {@code count} failed ticks of {@code id} naming the full disk and the store. */
    private static String awaitLogLines(ControlPlaneProcess cp, String id, Path store, int count, Duration within)
            throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        List<String> lines = List.of();
        while (System.nanoTime() < deadline) {
            lines = cp.logText().lines().filter(l -> l.contains(id) && l.contains("no space left")
                    && l.contains(store.toString())).toList();
            if (lines.size() >= count) {
                return lines.get(0);
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        throw new AssertionError("the control plane did not log " + count + " ticks of " + id
                + " failing with \"no space left\" and " + store + " within " + within + " (found " + lines.size()
                + "):\n" + cp.tail());
    }

    private static void assertProblem(TestHttp.Reply r, Path store, String what) {
        assertThat(r.status()).as(what + " while the store is full: " + r.body()).isEqualTo(503);
        assertThat(r.contentType()).as(what).startsWith("application/problem+json");
        assertThat(r.json().get("detail").asText()).as(what).containsIgnoringCase("no space left")
                .contains(store.toString());
    }

    /** The journal lines of node {@code node} about operation {@code kind} of migration {@code id}. */
    private static List<String> journal(ResilienceFleet fleet, int node, String id, OperationKind kind)
            throws IOException {
        Path file = fleet.dir.resolve(node == 0 ? "archive-a" : "archive-b").resolve("journal.jsonl");
        List<String> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = Json.parse(line);
            if (id.equals(n.path("migration").asText()) && kind.name().equals(n.path("kind").asText())) {
                out.add(line);
            }
        }
        return out;
    }
}
