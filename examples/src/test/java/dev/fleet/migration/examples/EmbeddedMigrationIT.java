package dev.fleet.migration.examples;

import static dev.fleet.migration.examples.CutoverEnvironment.docker;
import static dev.fleet.migration.examples.CutoverEnvironment.dockerQuietly;
import static dev.fleet.migration.examples.CutoverEnvironment.env;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Runs the embedding example against the two real Docker engines: A → B, then back B → A. */
class EmbeddedMigrationIT {
    private final String dockerA = env("FLEET_TEST_DOCKER_A");
    private final String dockerB = env("FLEET_TEST_DOCKER_B");
    private final String image = env("FLEET_TEST_IMAGE");
    private final EmbeddedMigration.Node a = new EmbeddedMigration.Node("a", dockerA,
            Path.of(env("FLEET_TEST_ARCHIVE_A")), "127.0.0.1");
    private final EmbeddedMigration.Node b = new EmbeddedMigration.Node("b", dockerB,
            Path.of(env("FLEET_TEST_ARCHIVE_B")), "127.0.0.2");
    private final String app = "example-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);
    private final String volume = app + "-data";

    @Test
    void movesAnAppToTheOtherEngineAndBack() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        docker(dockerA, "volume", "create", volume);
        docker(dockerA, "run", "-d", "--name", app, "--network", "host", "--restart", "unless-stopped",
                "--label", "fleet.port=" + port, "-v", volume + ":/data", image,
                "sh", "-c", "echo 'hello from the example' > /data/index.html && exec httpd -f -p 127.0.0.1:" + port + " -h /data");
        awaitServes(port, "hello from the example");

        InMemoryMigrationStore store = new InMemoryMigrationStore();
        EmbeddedMigration example = new EmbeddedMigration(a, b, store,
                new JsonFileProxyRouter(Files.createTempFile("routes", ".properties")));
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Migration there = example.migrate(app, "a", "b", new PrintStream(printed, true, StandardCharsets.UTF_8));
        String out = printed.toString(StandardCharsets.UTF_8);
        assertThat(there.state()).as(out).isEqualTo(MigrationState.DONE);
        assertThat(out).contains("snapshotting", "transferring", "restoring", "cutover", "done: " + app + " now runs on b");
        assertThat(docker(dockerB, "inspect", "--format", "{{.State.Running}}", app)).isEqualTo("true");
        assertThat(docker(dockerA, "inspect", "--format", "{{.State.Running}}",
                app + ".migrated-" + there.id().shortId())).isEqualTo("false");
        awaitServes(port, "hello from the example");

        Migration back = example.migrate(app, "b", "a", new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8));
        assertThat(back.state()).isEqualTo(MigrationState.DONE);
        assertThat(docker(dockerA, "inspect", "--format", "{{.State.Running}}", app)).isEqualTo("true");
        awaitServes(port, "hello from the example");
    }

    @AfterEach
    void cleanUp() {
        for (String host : List.of(dockerA, dockerB)) {
            String names = dockerQuietly(host, "ps", "-a", "--format", "{{.Names}}");
            for (String n : names.split("\n")) {
                if (n.equals(app) || n.startsWith(app + ".migrated-")) {
                    dockerQuietly(host, "rm", "-f", n);
                }
            }
            dockerQuietly(host, "volume", "rm", "-f", volume);
        }
    }

    private static void awaitServes(int port, String expected) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        IOException last = null;
        while (System.nanoTime() < until) {
            try {
                var c = (java.net.HttpURLConnection) java.net.URI.create("http://127.0.0.1:" + port + "/")
                        .toURL().openConnection();
                c.setConnectTimeout(1000);
                c.setReadTimeout(2000);
                try (var in = c.getInputStream()) {
                    assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).contains(expected);
                    return;
                }
            } catch (IOException e) {
                last = e;
                TimeUnit.MILLISECONDS.sleep(100);
            }
        }
        throw new AssertionError("nothing served on port " + port + " within 20 s", last);
    }
}
