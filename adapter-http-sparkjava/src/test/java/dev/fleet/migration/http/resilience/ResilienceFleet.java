package dev.fleet.migration.http.resilience;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.http.TestHttp;
import dev.fleet.migration.http.Wiring;
import dev.fleet.migration.http.agent.AgentServer;
import dev.fleet.migration.http.config.FleetConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A two-node fleet on the two test Docker engines for the resilience tests: the agents of node a
 * and node b run in this JVM (real {@code DockerNodeAgent}s behind real {@code AgentServer}s, with
 * archive directories of their own), and control planes run as their own processes from the
 * runnable jar, or in this JVM, against configs written here.
 */
final class ResilienceFleet implements AutoCloseable {
    static final String OPERATOR = "operator-token-for-resilience-0";
    static final String AGENT = "agent-token-for-resilience-00000";

    final String dockerA = env("FLEET_TEST_DOCKER_A");
    final String dockerB;
    final String image = env("FLEET_TEST_IMAGE");
    final Path dir;
    final List<AgentServer> servers = new ArrayList<>();
    final List<NodeAgent> agents = new ArrayList<>();
    private final List<String> apps = new ArrayList<>();
    private final List<ControlPlaneProcess> processes = new ArrayList<>();

    static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new AssertionError("environment variable " + name + " is not set: run the integration tests "
                    + "through scripts/test.sh (it starts the services in scripts/ci/services/)");
        }
        return v;
    }

    ResilienceFleet(String name) throws IOException {
        this(name, env("FLEET_TEST_DOCKER_B"), (i, agent) -> agent);
    }

    /**
     * @param dockerB the engine of node b (another than the test engine: its data root on a small
     *                filesystem, say)
     * @param served  what each node's agent server serves, given the node's index (0: a, 1: b) and
     *                its real agent: the agent itself, or a wrapper that holds a call
     */
    ResilienceFleet(String name, String dockerB, java.util.function.BiFunction<Integer, NodeAgent, NodeAgent> served)
            throws IOException {
        this.dockerB = dockerB;
        dir = Files.createTempDirectory("fleet-" + name + "-");
        Files.createDirectories(dir.resolve("archive-a"));
        Files.createDirectories(dir.resolve("archive-b"));
        Path draft = dir.resolve("draft.yaml");
        Files.writeString(draft, config("store: {path: " + dir.resolve("draft.db") + "}", 0, "0s"));
        FleetConfig cfg = FleetConfig.load(draft);
        for (FleetConfig.Node n : cfg.nodes()) {
            NodeAgent agent = Wiring.dockerAgents().create(n, cfg);
            agents.add(agent);
            servers.add(AgentServer.builder(served.apply(agents.size() - 1, agent)).listen("127.0.0.1", 0).token(AGENT)
                    .operatorToken(OPERATOR).build().start());
        }
    }

    String agentUrl(int i) {
        return servers.isEmpty() ? "http://127.0.0.1:" + (i + 1) : servers.get(i).url();
    }

    /** A whole config: control plane on {@code port} (0: any), the given store section, both nodes. */
    String config(String storeYaml, int port, String interval) {
        return """
                controlPlane: {listen: "127.0.0.1:%d"}
                %s
                tokens: {operator: %s, agent: %s}
                scheduler: {interval: %s, maxActivePerNode: 50}
                transport: {default: shared-dir}
                nodes:
                  - {id: a, agentUrl: "%s", docker: "%s", archiveDir: "%s", upstreamHost: 127.0.0.1, checkHostPorts: false}
                  - {id: b, agentUrl: "%s", docker: "%s", archiveDir: "%s", upstreamHost: 127.0.0.2, checkHostPorts: false}
                """.formatted(port, storeYaml, OPERATOR, AGENT, interval, agentUrl(0), dockerA, dir.resolve("archive-a"),
                agentUrl(1), dockerB, dir.resolve("archive-b"));
    }

    Path writeConfig(String name, String yaml) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, yaml);
        return p;
    }

    /** An app on node a: a web server whose volume holds a page and 256 KiB of random bytes. */
    record App(String name, int port) {}

    App deploy(String prefix) {
        String app = prefix + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);
        apps.add(app);
        int port = freePort();
        Docker.run(dockerA, "run", "-d", "--init", "--name", app, "--network", "host", "--restart", "unless-stopped",
                "--label", "fleet.port=" + port, "-v", app + "-data:/data", image, "httpd", "-f", "-p",
                String.valueOf(port), "-h", "/data");
        // the content is written straight into the volume (the test runs as root, like the agents)
        Path mp = Path.of(Docker.run(dockerA, "volume", "inspect", "--format", "{{.Mountpoint}}", app + "-data"));
        byte[] blob = new byte[262144];
        ThreadLocalRandom.current().nextBytes(blob);
        try {
            Files.writeString(mp.resolve("index.html"), "served by " + app + "\n");
            Files.write(mp.resolve("blob.bin"), blob);
        } catch (IOException e) {
            throw new AssertionError("cannot fill volume " + app + "-data at " + mp + ": " + e, e);
        }
        return new App(app, port);
    }

    void remove(List<App> gone) {
        List<String> names = gone.stream().map(App::name).toList();
        Docker.removeApps(dockerA, names);
        Docker.removeApps(dockerB, names);
        apps.removeAll(names);
    }

    void remove(App app) {
        Docker.removeApp(dockerA, app.name());
        Docker.removeApp(dockerB, app.name());
        apps.remove(app.name());
    }

    /** Ports handed out in this JVM: an app's port is free again while it moves, and must not be reused. */
    private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A free port never handed out before in this JVM. The kernel may offer a port again as soon
     * as nobody listens on it, which is the case between `docker run -d` and the app's bind, and
     * while an app moves between nodes; two apps on one port would answer for each other.
     */
    static int freePort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket s = new ServerSocket(0)) {
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("no fresh free port in 100 tries");
    }

    private Path jar;

    /**
     * A copy of the runnable jar `fleet` runs (`mvn verify` builds it in package, before the
     * integration tests), taken once, so a rebuild during the run cannot swap it underneath.
     */
    synchronized Path jar() throws IOException {
        if (jar == null) {
            jar = Files.copy(fleetJar(), dir.resolve("fleet-all.jar"));
        }
        return jar;
    }

    static Path fleetJar() {
        Path target = Path.of("target");
        try (Stream<Path> s = Files.list(target)) {
            return s.filter(p -> p.getFileName().toString().matches("adapter-http-sparkjava-.*-all\\.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("the runnable jar is missing from " + target.toAbsolutePath()
                            + ": run the integration tests with `mvn verify` (package builds it first)"));
        } catch (IOException e) {
            throw new AssertionError("cannot list " + target.toAbsolutePath() + ": " + e, e);
        }
    }

    /** Starts {@code fleet serve --config} as its own process and waits until its API answers. */
    ControlPlaneProcess serve(Path config, int port, Map<String, String> env) throws IOException {
        ControlPlaneProcess p = ControlPlaneProcess.start(jar(), config, port, env,
                dir.resolve("cp-" + processes.size() + ".log"));
        processes.add(p);
        return p;
    }

    private static final java.net.http.HttpClient CLIENT = java.net.http.HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** POST with the operators' token and a patient timeout (an abort compensates before it answers); the status. */
    static int post(String url, String body) {
        try {
            return CLIENT.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).timeout(Duration.ofMinutes(3))
                    .header("Authorization", "Bearer " + OPERATOR).header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JsonNode get(String url, String id) {
        return TestHttp.send("GET", url + "/api/migrations/" + id, OPERATOR, null).json();
    }

    /** Waits until the migration is DONE or FAILED and returns it. */
    static JsonNode awaitEnd(String url, String id, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        JsonNode m = null;
        while (System.nanoTime() < deadline) {
            try {
                m = get(url, id);
                if (m.has("active") && !m.get("active").asBoolean()) {
                    return m;
                }
            } catch (RuntimeException e) {
                // the control plane is not answering yet: ask again
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        throw new AssertionError("migration " + id + " did not end within " + within + "; last seen: " + m);
    }

    static String httpGet(int port) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                var c = (java.net.HttpURLConnection) java.net.URI.create("http://127.0.0.1:" + port + "/index.html")
                        .toURL().openConnection();
                c.setConnectTimeout(1000);
                c.setReadTimeout(2000);
                try (var in = c.getInputStream()) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            } catch (IOException e) {
                if (System.nanoTime() > until) {
                    throw new AssertionError("nothing serves on 127.0.0.1:" + port + ": " + e, e);
                }
                TimeUnit.MILLISECONDS.sleep(100);
            }
        }
    }

    @Override
    public void close() throws Exception {
        for (ControlPlaneProcess p : processes) {
            p.kill();
        }
        for (AgentServer s : servers) {
            s.close();
        }
        for (NodeAgent a : agents) {
            if (a instanceof AutoCloseable c) {
                c.close();
            }
        }
        Docker.removeApps(dockerA, apps);
        Docker.removeApps(dockerB, apps);
        apps.clear();
        // the logs, stores and jar copy go too (a failure's message already quotes the log it needs)
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("could not remove " + dir + ": " + e);
        }
    }
}
