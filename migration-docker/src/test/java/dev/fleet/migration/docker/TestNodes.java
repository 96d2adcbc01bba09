package dev.fleet.migration.docker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.spi.Endpoint;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The two real Docker daemons the integration tests run against, as scripts/ci/services/docker.sh
 * starts them, and the agents for them. A missing variable fails the test, naming it.
 */
final class TestNodes implements AutoCloseable {

    /**
     * The part of a node's inventory one test can touch: its own app's containers and volumes
     * (named {@code app}, {@code app.migrated-*}, {@code app-*}) and everything labelled with one
     * of its migrations. The engines are shared with the other test suites of the project, whose
     * apps come and go meanwhile, so a whole-node comparison would fail on their work; anything
     * this test's migrations create or change is still in view (by name or by label).
     */
    static dev.fleet.migration.core.spi.NodeInventory owned(dev.fleet.migration.core.spi.NodeInventory all, String app,
                                                          String... migrations) {
        java.util.Set<String> ids = java.util.Set.of(migrations);
        java.util.function.BiPredicate<String, java.util.Map<String, String>> mine = (name, labels) ->
                name.equals(app) || name.startsWith(app + ".") || name.startsWith(app + "-")
                        || ids.contains(labels.getOrDefault("dev.fleet.migration.id", ""));
        return new dev.fleet.migration.core.spi.NodeInventory(
                all.containers().stream().filter(c -> mine.test(c.name(), c.labels())).toList(),
                all.volumes().stream().filter(v -> mine.test(v.name(), v.labels())).toList());
    }
    static final NodeId A = NodeId.of("node-a");
    static final NodeId B = NodeId.of("node-b");

    final String dockerA = env("FLEET_TEST_DOCKER_A");
    final String dockerB = env("FLEET_TEST_DOCKER_B");
    final String image = env("FLEET_TEST_IMAGE");
    final Path archiveA = Path.of(env("FLEET_TEST_ARCHIVE_A"));
    final Path archiveB = Path.of(env("FLEET_TEST_ARCHIVE_B"));
    final DockerNodeAgent a;
    final DockerNodeAgent b;
    private final List<String[]> cleanup = new ArrayList<>();

    TestNodes() {
        this(DockerNodeAgent.ContainerFilesystem.COMMIT);
    }

    TestNodes(DockerNodeAgent.ContainerFilesystem filesystem) {
        a = agent(A, dockerA, archiveA, B, archiveB, filesystem);
        b = agent(B, dockerB, archiveB, A, archiveA, filesystem);
    }

    static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new AssertionError("environment variable " + name + " is not set: run the integration tests "
                    + "through scripts/test.sh, or start the daemons with `bash scripts/ci/services/docker.sh up "
                    + "/tmp/fleet-test` and `source /tmp/fleet-test/docker.env` first");
        }
        return v;
    }

    private static DockerNodeAgent agent(NodeId id, String docker, Path archive, NodeId peer, Path peerArchive,
                                         DockerNodeAgent.ContainerFilesystem filesystem) {
        return DockerNodeAgent.builder()
                .node(id)
                .docker(DockerEndpoint.unix(docker))
                .archiveDirectory(archive)
                .transport(new LocalCopyTransport())
                .peer(peer, new DockerNodeAgent.Peer(new Endpoint("127.0.0.1", 22, "root"), peerArchive.toString()))
                .stopTimeout(Duration.ofSeconds(2))
                // both daemons share this host's loopback: the source holds the port the target will use
                .probeHostPorts(false)
                .containerFilesystem(filesystem)
                .build();
    }

    /**
     * Where a node's agent stages restores: {@code <DockerRootDir>/fleet-staging}, on the engine's
     * data root beside its volumes (so each staged volume tree is renamed into its volume).
     */
    Path stagingRoot(NodeId node) {
        return Path.of(docker(node, "info", "--format", "{{.DockerRootDir}}")).resolve("fleet-staging");
    }

    String host(NodeId node) {
        return node.equals(A) ? dockerA : dockerB;
    }

    /** Runs the docker CLI against one node and returns its output; fails on a non-zero exit. */
    String docker(NodeId node, String... args) {
        List<String> cmd = new ArrayList<>(List.of("docker", "-H", host(node)));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
            }
            return out.strip();
        } catch (IOException e) {
            throw new AssertionError("could not run " + cmd + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Same, but never fails (for cleanup). */
    void dockerQuietly(NodeId node, String... args) {
        try {
            docker(node, args);
        } catch (AssertionError ignored) {
            // already gone
        }
    }

    Path mountpoint(NodeId node, String volume) {
        return Path.of(docker(node, "volume", "inspect", "--format", "{{.Mountpoint}}", volume));
    }

    /** Remembers a container or volume to remove from both nodes when the test class ends. */
    void removeLater(String kind, String name) {
        cleanup.add(new String[] {kind, name});
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A running httpd on host networking, serving {@code /data} of a named volume on a free
     * loopback port, with restart policy unless-stopped.
     */
    int deployWebApp(NodeId node, String name, String volume, String... extraArgs) {
        int port = freePort();
        docker(node, "volume", "create", volume);
        List<String> args = new ArrayList<>(List.of("run", "-d", "--name", name, "--network", "host",
                "--restart", "unless-stopped", "--label", "fleet.port=" + port, "-v", volume + ":/data"));
        args.addAll(List.of(extraArgs));
        args.addAll(List.of(image, "httpd", "-f", "-p", "127.0.0.1:" + port, "-h", "/data"));
        removeLater("container", name);
        removeLater("volume", volume);
        docker(node, args.toArray(String[]::new));
        return port;
    }

    static String httpGet(int port, String path) throws IOException {
        var url = java.net.URI.create("http://127.0.0.1:" + port + path).toURL();
        var c = (java.net.HttpURLConnection) url.openConnection();
        c.setConnectTimeout(2000);
        c.setReadTimeout(5000);
        try (var in = c.getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static void assertServes(int port, String path, String expected) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                assertThat(httpGet(port, path)).isEqualTo(expected);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > until) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    @Override
    public void close() {
        for (NodeId n : List.of(A, B)) {
            for (String[] c : cleanup) {
                if (c[0].equals("container")) {
                    for (String name : docker(n, "ps", "-a", "--format", "{{.Names}}").split("\n")) {
                        if (name.equals(c[1]) || name.startsWith(c[1] + ".migrated-")) {
                            dockerQuietly(n, "rm", "-f", name);
                        }
                    }
                }
            }
            for (String[] c : cleanup) {
                if (c[0].equals("volume")) {
                    dockerQuietly(n, "volume", "rm", "-f", c[1]);
                }
            }
        }
        a.close();
        b.close();
    }
}
