package dev.fleet.migration.examples;

import static dev.fleet.migration.examples.CutoverEnvironment.docker;
import static dev.fleet.migration.examples.CutoverEnvironment.dockerQuietly;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Runs the replay example against the two real Docker engines: a migration aborted after its
 * snapshot, writes and a deletion on the source meanwhile, then the replay of the kept archive:
 * the target ends with the source's data as it was at the stop, not as it was at the snapshot.
 */
class ReplayFromKeptArchiveIT {
    private final String dockerA = CutoverEnvironment.dockerA();
    private final String dockerB = CutoverEnvironment.dockerB();
    private final EmbeddedMigration.Node a = new EmbeddedMigration.Node("a", dockerA, CutoverEnvironment.archiveA(),
            "127.0.0.1");
    private final EmbeddedMigration.Node b = new EmbeddedMigration.Node("b", dockerB, CutoverEnvironment.archiveB(),
            "127.0.0.2");
    private final String app = "replay-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);
    private final String volume = app + "-data";

    /** A listing of the volume as the container sees it: path, size and sha256 of every file. */
    private String tree(String host) {
        return docker(host, "run", "--rm", "--network", "none", "-v", volume + ":/data:ro", CutoverEnvironment.image(),
                "sh", "-c", "cd /data && find . -type f | sort | while read f; do echo \"$f $(wc -c < \"$f\") "
                        + "$(sha256sum < \"$f\" | cut -d' ' -f1)\"; done");
    }

    @Test
    void theReplayCarriesEveryWriteMadeSinceTheKeptSnapshot() throws Exception {
        docker(dockerA, "volume", "create", volume);
        docker(dockerA, "run", "-d", "--name", app, "--network", "none", "--restart", "unless-stopped",
                "-v", volume + ":/data", CutoverEnvironment.image(), "sh", "-c",
                "[ -d /data/d ] || { mkdir -p /data/d && for i in 1 2 3 4 5; do head -c 200000 /dev/urandom > /data/d/f$i; "
                        + "done; echo first > /data/doomed.txt; }; exec sleep 1000000"); // seeds once, not on every start
        long seeded = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
        while (!docker(dockerA, "exec", app, "ls", "/data").contains("doomed.txt")) {
            assertThat(System.nanoTime() - seeded).as("the app seeded its volume within 20 s").isNegative();
            Thread.sleep(100);
        }

        InMemoryMigrationStore store = new InMemoryMigrationStore();
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Migration replay = new ReplayFromKeptArchive(a, b, store).run(app, () -> {
            docker(dockerA, "exec", app, "sh", "-c",
                    "echo written after the snapshot > /data/late.txt && rm /data/doomed.txt && echo more >> /data/d/f1");
        }, new PrintStream(printed, true, StandardCharsets.UTF_8));
        String out = printed.toString(StandardCharsets.UTF_8);

        assertThat(replay.state()).as(out).isEqualTo(MigrationState.DONE);
        assertThat(out).contains("aborted in", "is kept", "without a new snapshot", "done: " + app + " now runs on b");
        String replayed = replay.facts().get(Orchestrator.FACT_REPLAY_OF);
        Migration first = store.find(dev.fleet.migration.core.MigrationId.of(replayed)).orElseThrow();
        assertThat(first.state()).isEqualTo(MigrationState.FAILED);
        assertThat(replay.archive().get().sha256()).as("the same archive, adopted")
                .isEqualTo(first.archive().get().sha256());

        String retired = app + ".migrated-" + replay.id().shortId();
        assertThat(docker(dockerA, "inspect", "--format", "{{.State.Running}} {{.HostConfig.RestartPolicy.Name}}",
                retired)).isEqualTo("false no");
        assertThat(docker(dockerB, "inspect", "--format", "{{.State.Running}}", app)).isEqualTo("true");
        String onA = tree(dockerA);
        String onB = tree(dockerB);
        assertThat(onB).as("the target's volume equals the source's at the stop").isEqualTo(onA)
                .contains("./late.txt").doesNotContain("./doomed.txt");
    }

    @AfterEach
    void cleanUp() {
        for (String host : List.of(dockerA, dockerB)) {
            for (String n : dockerQuietly(host, "ps", "-a", "--format", "{{.Names}}").split("\n")) {
                if (n.equals(app) || n.startsWith(app + ".migrated-")) {
                    dockerQuietly(host, "rm", "-f", n);
                }
            }
            dockerQuietly(host, "volume", "rm", "-f", volume);
        }
    }
}
