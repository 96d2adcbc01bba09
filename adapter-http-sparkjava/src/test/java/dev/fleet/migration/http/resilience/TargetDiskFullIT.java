package dev.fleet.migration.http.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.http.TestHttp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 9, "disk full on the target's volumes": where a restore really lands a volume's bytes is
 * the target engine's data root: the agent unpacks the archive into staging under that data root
 * ({@code <data-root>/fleet-staging/<migration>.staging}), creates the volume through the engine,
 * and renames the tree into {@code <data-root>/volumes/<name>/_data}. So node b is an engine of
 * this test's own ({@link OwnEngine}) whose data root is on a small ext4 loop filesystem
 * ({@code scripts/ci/services/smallfs.sh}, {@code FLEET_TEST_SMALLFS_TARGET_DIR}, 48 MiB), while
 * node b's archive dir has room: the layout of a host whose /var/lib/docker is its own, smaller
 * partition. The migrations are ticked by the test ({@code POST .../advance}; the scheduler is off),
 * so what happens between two steps is certain.
 *
 * <p>First, a volume larger than that whole filesystem: the target's preflight refuses it, naming
 * the data root and its free space, before anything is snapshotted. Then a volume that fits: the
 * preflight passes, and before the restore something else takes the space (a filler file on that
 * filesystem). The migration must end FAILED in restoring with a reason naming the cause (no
 * space left), the node and the volume; the target must hold nothing of the migration afterwards
 * (no volume, container or image labelled or named for it, no staging under the data root, no
 * archive in its archive dir) while a foreign volume on it survives untouched; the filesystem
 * must have its space back; and the source must be exactly as before, still serving, its volume's
 * hash unchanged.
 *
 * <p>The control plane ({@code fleet serve}, its own process) and both agents (in this JVM) run
 * the migrations.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TargetDiskFullIT {
    private final Path smallFs = Path.of(ResilienceFleet.env("FLEET_TEST_SMALLFS_TARGET_DIR"));
    private OwnEngine engine;
    private ResilienceFleet fleet;
    private ControlPlaneProcess cp;
    private String foreign;

    @BeforeAll
    void start() throws IOException {
        assertThat(smallFs).as("FLEET_TEST_SMALLFS_TARGET_DIR (scripts/ci/services/smallfs.sh up)").isDirectory();
        String tag = Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);
        // short paths: the engine's unix sockets live under its run dir
        engine = OwnEngine.start(smallFs.resolve("engine-" + tag), Path.of("/tmp", "fleet-e-" + tag), "tdf-" + tag);
        fleet = new ResilienceFleet("targetfull", engine.host, (i, agent) -> agent);
        int port = ResilienceFleet.freePort();
        Path config = fleet.writeConfig("fleet.yaml",
                fleet.config("store: {path: " + fleet.dir.resolve("store.db") + "}", port, "0s")); // ticked by the test
        cp = fleet.serve(config, port, Map.of());
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (fleet != null) {
                fleet.close(); // the control plane, the agents, the apps on both engines
            }
        } finally {
            if (engine != null) {
                if (foreign != null) {
                    Docker.quietly(engine.host, "volume", "rm", "-f", foreign);
                }
                engine.close();
            }
        }
    }

    /** Ticks the migration until it is no longer in {@code state} (or has ended) and returns it. */
    private JsonNode advancePast(String id, String state, Duration within) throws InterruptedException {
        return advanceUntil(id, m -> !m.get("state").asText().equalsIgnoreCase(state), "stayed " + state + " for",
                within);
    }

    /** Ticks the migration until it ends and returns it. */
    private JsonNode advanceToEnd(String id, Duration within) throws InterruptedException {
        return advanceUntil(id, m -> false, "did not end within", within);
    }

    /** Ticks the migration until {@code done} holds or it has ended, polling every 20 ms until {@code within}. */
    private JsonNode advanceUntil(String id, java.util.function.Predicate<JsonNode> done, String failure,
                                  Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            JsonNode m = TestHttp.send("POST", cp.url() + "/api/migrations/" + id + "/advance",
                    ResilienceFleet.OPERATOR, null).json();
            if (done.test(m) || !m.get("active").asBoolean()) {
                return m;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("migration " + id + " " + failure + " " + within + ": " + m);
            }
            Thread.sleep(20);
        }
    }

    private Path stagingRoot() {
        return engine.dataRoot.resolve("fleet-staging");
    }

    @Test
    @DisplayName("a volume larger than the target's data root: the preflight refuses it naming that filesystem;"
            + " nothing was started")
    void preflightNamesTheDataRoot() throws Exception {
        ResilienceFleet.App probe = fleet.deploy("tdisk-pre");
        String app = probe.name();
        long capacity = Files.getFileStore(smallFs).getTotalSpace();
        Path mp = Path.of(Docker.run(fleet.dockerA, "volume", "inspect", "--format", "{{.Mountpoint}}",
                app + "-data"));
        fill(mp.resolve("big.bin"), capacity / (1 << 20) + 16);
        TreeMap<String, String> beforeA = Docker.view(fleet.dockerA, app);

        String id = TestHttp.send("POST", cp.url() + "/api/migrations", ResilienceFleet.OPERATOR,
                "{\"app\":\"" + app + "\",\"source\":\"a\",\"target\":\"b\"}").json().get("id").asText();
        JsonNode end = advanceToEnd(id, Duration.ofSeconds(60));

        assertThat(end.get("state").asText()).as("the migration: " + end).isEqualToIgnoringCase("FAILED");
        String reason = end.at("/failure/reason").asText();
        assertThat(end.at("/failure/failedIn").asText()).as("failed in: " + end).isEqualToIgnoringCase("PENDING");
        // the filesystem that is short: the staging directory under b's data root, not its archive dir
        assertThat(reason).as("the reason").contains("preflight on target b").contains(stagingRoot().toString())
                .contains("data root").doesNotContain(fleet.dir.resolve("archive-b").toString());
        assertThat(Docker.view(engine.host, app)).as("node b holds nothing of the app").isEmpty();
        assertThat(Docker.view(fleet.dockerA, app)).as("node a as before").isEqualTo(beforeA);
        assertThat(Docker.running(fleet.dockerA, app)).containsExactly(app);
        System.out.printf("volume larger than the target's data root (%d MiB fs): %s in %s: %s%n", capacity >> 20,
                end.get("state").asText(), end.at("/failure/failedIn").asText(), reason);
    }

    private static void fill(Path file, long mib) throws IOException {
        byte[] blob = new byte[1 << 20];
        try (var out = Files.newOutputStream(file)) {
            for (long i = 0; i < mib; i++) {
                ThreadLocalRandom.current().nextBytes(blob);
                out.write(blob);
            }
        }
    }

    @Test
    @DisplayName("the target's data root fills up after the preflight: FAILED in restoring naming the full disk, node"
            + " and volume; target cleaned of what the migration made; space back; source untouched")
    void targetVolumesFull() throws Exception {
        long t0 = System.nanoTime();
        // something on node b that is not the migration's: it must survive the cleanup as it was
        ResilienceFleet.App probe = fleet.deploy("tdisk");
        String app = probe.name();
        foreign = app + "-sidecar-vol";
        Docker.run(engine.host, "volume", "create", "--label", "dev.fleet.migration.id=m-someone-else", foreign);
        Path foreignMp = Path.of(Docker.run(engine.host, "volume", "inspect", "--format", "{{.Mountpoint}}", foreign));
        Files.writeString(foreignMp.resolve("keep.txt"), "not the migration's\n");
        String foreignHash = Docker.volumeHash(engine.host, foreign);

        // the app's volume: its page, 256 KiB (deploy), and random bytes: a third of what is free on b's data root,
        // so the target's preflight passes
        long capacity = Files.getFileStore(smallFs).getTotalSpace();
        long freeBefore = Files.getFileStore(smallFs).getUsableSpace();
        long mib = freeBefore / (1 << 20) / 3;
        Path mp = Path.of(Docker.run(fleet.dockerA, "volume", "inspect", "--format", "{{.Mountpoint}}",
                app + "-data"));
        fill(mp.resolve("big.bin"), mib);
        TreeMap<String, String> beforeA = Docker.view(fleet.dockerA, app);
        assertThat(Docker.view(engine.host, app)).as("node b before").isEmpty();

        CopyWatch watch = new CopyWatch(fleet, Set.of(app)).start();
        String id;
        JsonNode end;
        Path filler = smallFs.resolve("filler-" + app);
        try {
            id = TestHttp.send("POST", cp.url() + "/api/migrations", ResilienceFleet.OPERATOR,
                    "{\"app\":\"" + app + "\",\"source\":\"a\",\"target\":\"b\"}").json().get("id").asText();
            JsonNode preflighted = advancePast(id, "PENDING", Duration.ofSeconds(30));
            assertThat(preflighted.get("state").asText()).as("after the preflight: " + preflighted)
                    .isEqualToIgnoringCase("SNAPSHOTTING");
            // something else takes b's data root now: room is left for the app's image (unpacked first) and a
            // quarter of the volume, so the volume is what does not fit
            long image = Long.parseLong(Docker.run(fleet.dockerA, "image", "inspect", "--format", "{{.Size}}",
                    Docker.run(fleet.dockerA, "inspect", "--format", "{{.Image}}", app)));
            long keep = 2 * image + (mib << 20) / 4;
            assertThat(keep).as("room kept for the image and a quarter of the volume").isLessThan(mib << 20);
            fill(filler, Math.max(0, Files.getFileStore(smallFs).getUsableSpace() - keep) >> 20);
            end = advanceToEnd(id, Duration.ofSeconds(180));
        } finally {
            watch.stop();
            Files.deleteIfExists(filler); // the migration has ended (or the test failed): give the space back
        }

        // the outcome, and a reason that names the cause, the node and the volume
        assertThat(end.get("state").asText()).as("the migration: " + end).isEqualToIgnoringCase("FAILED");
        JsonNode failure = end.get("failure");
        String reason = failure.get("reason").asText();
        assertThat(failure.get("failedIn").asText()).as("failed in: " + end).isEqualToIgnoringCase("RESTORING");
        // in words: the volume by name (not only inside a path), no bare exception class, not a "refused" archive
        assertThat(reason).as("the reason").containsIgnoringCase("no space left").contains("node b")
                .contains("volume '" + app + "-data'").doesNotContain("Exception").doesNotContain("refused")
                .doesNotContain("truncated");
        assertThat(failure.at("/compensation/outcome").asText()).as("compensation: " + failure).isEqualTo("complete");
        List<String> actions = new ArrayList<>();
        failure.at("/compensation/actions").forEach(a -> actions.add(a.asText()));
        // the restore ran out of space while unpacking, before it made the volume, and removed its staging itself;
        // compensation removed the archive copy and found nothing else of the migration on b
        assertThat(actions).as("compensation").contains("target b: removed " + id + ".tar")
                .noneMatch(a -> a.contains("could not"));

        // node b: nothing of the migration (by its label, by its names), the foreign volume as it was
        String label = "label=dev.fleet.migration.id=" + id;
        assertThat(Docker.run(engine.host, "volume", "ls", "-q", "--filter", label)).as("b's volumes of " + id).isEmpty();
        assertThat(Docker.run(engine.host, "ps", "-aq", "--filter", label)).as("b's containers of " + id).isEmpty();
        assertThat(Docker.run(engine.host, "images", "-q", "--filter", "reference=fleet-migration/*"))
                .as("b's images of the migration").isEmpty();
        assertThat(Docker.view(engine.host, app)).as("node b holds nothing of the app").isEmpty();
        assertThat(Files.exists(engine.dataRoot.resolve("volumes").resolve(app + "-data")))
                .as("the volume's directory on the small filesystem").isFalse();
        try (Stream<Path> files = Files.list(stagingRoot())) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .as("staging left under node b's data root").isEmpty();
        }
        assertThat(Docker.volumeHash(engine.host, foreign)).as("the foreign volume on b").isEqualTo(foreignHash);
        try (Stream<Path> files = Files.list(fleet.dir.resolve("archive-b"))) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> !n.equals("journal.jsonl")))
                    .as("files left in node b's archive dir (staging, archive, partial files)").isEmpty();
        }
        // the source kept its finished archive and change fence for a replay, nothing partial
        try (Stream<Path> files = Files.list(fleet.dir.resolve("archive-a"))) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> !n.equals("journal.jsonl"))
                    .filter(n -> !n.equals(id + ".tar") && !n.equals(id + ".fence"))).as("node a's archive dir").isEmpty();
        }
        // the space is back, the filler gone (the foreign volume's few bytes were there before too)
        assertThat(Files.getFileStore(smallFs).getUsableSpace()).as("free space on b's data root")
                .isGreaterThanOrEqualTo(freeBefore - (1 << 20));

        // the source is untouched and serves; no poll saw the app on both nodes
        assertThat(Docker.view(fleet.dockerA, app)).as("node a as before").isEqualTo(beforeA);
        assertThat(Docker.running(fleet.dockerA, app)).containsExactly(app);
        assertThat(ResilienceFleet.httpGet(probe.port())).contains("served by " + app);
        assertThat(watch.violations(app)).as("two copies").isEmpty();
        System.out.printf("disk full on the target's data root (%d MiB fs, %d MiB volume, filled after the preflight):"
                        + " %s in %s: %s;"
                        + " compensation: %s (%d polls; %d ms)%n", capacity >> 20, mib, end.get("state").asText(),
                failure.get("failedIn").asText(), reason, actions, watch.polls(), (System.nanoTime() - t0) / 1_000_000);
    }
}
