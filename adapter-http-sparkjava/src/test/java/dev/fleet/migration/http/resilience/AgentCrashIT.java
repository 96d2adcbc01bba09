package dev.fleet.migration.http.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.http.TestHttp;
import dev.fleet.migration.http.Wiring;
import dev.fleet.migration.http.agent.AgentServer;
import dev.fleet.migration.http.config.FleetConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 9, "agent crash" and "a dockerd restart after cutover does not revive the source".
 *
 * <p>Node b's agent is its own process ({@code fleet agent --config ... --node b} from the
 * runnable jar), the control plane too ({@code fleet serve}, scheduler on, SQLite store); node a's
 * agent runs in this JVM. Node b's agent gets a real SIGKILL while its journal says RESTORE (or
 * START_TARGET) is running, and is started again with the same command line: its journal replays
 * the cut-off operation as failed, the control plane fails the migration and compensates. The
 * migration must end DONE or FAILED with both nodes as they were; no poll (every 50 ms) may see the
 * app running on both engines; a foreign container and volume with look-alike names on node b
 * (one of them labelled with another migration's id) survive the compensation.
 *
 * <p>Last, after a DONE migration, node a's dockerd is stopped with SIGTERM and started again with
 * the same command line: the retired source container stays stopped with restart policy {@code no}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AgentCrashIT {
    private static final String LABEL = "dev.fleet.migration.id";
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private final String dockerA = ResilienceFleet.env("FLEET_TEST_DOCKER_A");
    private final String dockerB = ResilienceFleet.env("FLEET_TEST_DOCKER_B");
    /** Where agent b stages a restore: under its engine's data root, beside the volumes. */
    private final Path stagingB = Docker.stagingRoot(dockerB);
    private final String image = ResilienceFleet.env("FLEET_TEST_IMAGE");
    private Path dir;
    private Path jar;
    private Path config;
    private Path journalB;
    private AgentServer serverA;
    private NodeAgent agentA;
    private Process agentB;
    private int agentBRestarts;
    private ControlPlaneProcess cp;
    private final List<String> apps = new ArrayList<>();
    private final List<String> foreign = new ArrayList<>();

    @BeforeAll
    void start() throws IOException {
        dir = Files.createTempDirectory("fleet-agentcrash-");
        Files.createDirectories(dir.resolve("archive-a"));
        Files.createDirectories(dir.resolve("archive-b"));
        journalB = dir.resolve("archive-b").resolve("journal.jsonl");
        jar = Files.copy(ResilienceFleet.fleetJar(), dir.resolve("fleet-all.jar"));
        int portA = ResilienceFleet.freePort();
        int portB = ResilienceFleet.freePort();
        int portCp = ResilienceFleet.freePort();
        config = dir.resolve("fleet.yaml");
        Files.writeString(config, """
                controlPlane: {listen: "127.0.0.1:%d"}
                store: {path: %s}
                tokens: {operator: %s, agent: %s}
                scheduler: {interval: 200ms, maxActivePerNode: 50, healthDeadline: 30s}
                transport: {default: shared-dir}
                nodes:
                  - {id: a, agentUrl: "http://127.0.0.1:%d", docker: "%s", archiveDir: "%s", upstreamHost: 127.0.0.1, checkHostPorts: false}
                  - {id: b, agentUrl: "http://127.0.0.1:%d", docker: "%s", archiveDir: "%s", upstreamHost: 127.0.0.2, checkHostPorts: false}
                """.formatted(portCp, dir.resolve("store.db"), ResilienceFleet.OPERATOR, ResilienceFleet.AGENT, portA,
                dockerA, dir.resolve("archive-a"), portB, dockerB, dir.resolve("archive-b")));
        FleetConfig cfg = FleetConfig.load(config);
        FleetConfig.Node a = cfg.node("a").orElseThrow();
        agentA = Wiring.dockerAgents().create(a, cfg);
        serverA = AgentServer.builder(agentA).listen("127.0.0.1", portA).token(ResilienceFleet.AGENT)
                .operatorToken(ResilienceFleet.OPERATOR).build().start();
        startAgentB();
        cp = ControlPlaneProcess.start(jar, config, portCp, Map.of(), dir.resolve("cp.log"));
    }

    @AfterAll
    void stop() throws Exception {
        if (cp != null) {
            cp.kill();
        }
        killAgentB();
        if (serverA != null) {
            serverA.close();
        }
        if (agentA instanceof AutoCloseable c) {
            c.close();
        }
        Docker.removeApps(dockerA, apps);
        Docker.removeApps(dockerB, apps);
        for (String f : foreign) {
            Docker.quietly(dockerB, "rm", "-f", f);
            Docker.quietly(dockerB, "volume", "rm", "-f", f + "-vol");
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    // ------------------------------------------------------------------ agent b as a process

    private void startAgentB() throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Path log = dir.resolve("agent-b-" + agentBRestarts++ + ".log");
        agentB = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info", "-jar", jar.toString(), "agent", "--config",
                config.toString(), "--node", "b").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!agentB.isAlive()) {
                throw new AssertionError("agent b exited with " + agentB.exitValue() + ":\n" + read(log));
            }
            if (read(log).contains("agent of node b listening on")) {
                return;
            }
            sleep(50);
        }
        throw new AssertionError("agent b did not start within 60 s:\n" + read(log));
    }

    private void killAgentB() throws InterruptedException {
        if (agentB != null && agentB.isAlive()) {
            agentB.destroyForcibly(); // SIGKILL
            assertThat(agentB.waitFor(30, TimeUnit.SECONDS)).as("agent b is gone after SIGKILL").isTrue();
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** The journal's op records of one migration and kind, in order: their phases (and errors). */
    private List<String> journal(String id, String kind) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.exists(journalB)) {
            return out;
        }
        for (String line : Files.readAllLines(journalB, StandardCharsets.UTF_8)) {
            if (line.contains("\"t\":\"op\"") && line.contains("\"migration\":\"" + id + "\"")
                    && line.contains("\"kind\":\"" + kind + "\"")) {
                JsonNode n;
                try {
                    n = JSON.readTree(line);
                } catch (IOException torn) {
                    continue; // a line still being appended
                }
                out.add(n.path("phase").asText() + (n.has("error") ? " " + n.get("error").asText() : ""));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ the app and its neighbours

    /** A web server on node a whose volume holds a page and {@code mib} MiB of random bytes. */
    private ResilienceFleet.App deploy(String prefix, int mib, boolean healthcheck) throws IOException {
        String app = prefix + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);
        apps.add(app);
        int port = ResilienceFleet.freePort();
        List<String> args = new ArrayList<>(List.of("run", "-d", "--init", "--name", app, "--network", "host",
                "--restart", "unless-stopped", "--label", "fleet.port=" + port, "-v", app + "-data:/data"));
        if (healthcheck) {
            // the first check runs 3 s after the start: START_TARGET's health gate lasts that long
            args.addAll(List.of("--health-cmd", "test -f /data/index.html", "--health-interval", "3s",
                    "--health-retries", "3"));
        }
        args.addAll(List.of(image, "httpd", "-f", "-p", String.valueOf(port), "-h", "/data"));
        // a private cgroup namespace, stated: on a cgroup v1 host the engine's default is 'host', which
        // the source's preflight refuses (HostConfigPolicy: host namespaces are not migrated)
        Docker.run(dockerA, args.toArray(String[]::new));
        Path mp = Path.of(Docker.run(dockerA, "volume", "inspect", "--format", "{{.Mountpoint}}", app + "-data"));
        Files.writeString(mp.resolve("index.html"), "served by " + app + "\n");
        byte[] blob = new byte[1 << 20];
        try (var out = Files.newOutputStream(mp.resolve("blob.bin"))) {
            for (int i = 0; i < mib; i++) {
                ThreadLocalRandom.current().nextBytes(blob);
                out.write(blob);
            }
        }
        return new ResilienceFleet.App(app, port);
    }

    /** A container and a volume on node b that are not this migration's, with names like the app's. */
    private List<String> foreignNeighbours(String app) {
        String c = app + "-sidecar";
        foreign.add(c);
        Docker.run(dockerB, "volume", "create", "--label", LABEL + "=m-someone-else", c + "-vol");
        Docker.run(dockerB, "run", "-d", "--name", c, "--network", "none", "--label", LABEL + "=m-someone-else",
                "-v", c + "-vol:/data", image, "sleep", "3600");
        return List.of(c, c + "-vol");
    }

    private void assertForeignSurvive(List<String> neighbours) {
        assertThat(Docker.run(dockerB, "inspect", "--format", "{{.State.Running}}", neighbours.get(0)))
                .as("the foreign container on node b").isEqualTo("true");
        assertThat(Docker.run(dockerB, "volume", "ls", "-q").split("\n")).as("the foreign volume on node b")
                .contains(neighbours.get(1));
    }

    /** Polls both engines every 50 ms; any poll that sees the app running on both is a violation. */
    private final class Watch implements AutoCloseable {
        final List<String> violations = new ArrayList<>();
        volatile boolean stop;
        final Thread thread;
        int polls;

        Watch(String app) {
            thread = new Thread(() -> {
                while (!stop) {
                    try {
                        boolean a = Docker.running(dockerA, app).size() > 0;
                        boolean b = Docker.running(dockerB, app).size() > 0;
                        polls++;
                        if (a && b) {
                            synchronized (violations) {
                                violations.add(app + " runs on a and on b at " + java.time.Instant.now());
                            }
                        }
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        return;
                    } catch (AssertionError e) {
                        // an engine not answering for a moment is no copy
                    }
                }
            }, "agent-crash-watch");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            thread.join(10_000);
        }
    }

    // ------------------------------------------------------------------ the trials

    private String create(String app) {
        return TestHttp.send("POST", cp.url() + "/api/migrations", ResilienceFleet.OPERATOR,
                "{\"app\":\"" + app + "\",\"source\":\"a\",\"target\":\"b\"}").json().get("id").asText();
    }

    /**
     * Waits until node b's journal says the operation runs (and has not ended) and {@code landed}
     * holds (the operation has changed something on node b), then SIGKILLs agent b.
     */
    private void killWhenRunning(String id, String kind, java.util.function.BooleanSupplier landed, Duration within)
            throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            List<String> phases = journal(id, kind);
            if (!phases.isEmpty()) {
                if (phases.equals(List.of("RUNNING")) && !landed.getAsBoolean()) {
                    Thread.sleep(5);
                    continue;
                }
                if (phases.equals(List.of("RUNNING"))) {
                    killAgentB();
                    return;
                }
                throw new AssertionError(kind + " of " + id + " ended before the kill (" + phases + "): make it slower");
            }
            Thread.sleep(5);
        }
        throw new AssertionError(kind + " of " + id + " never ran on node b within " + within + "; migration: "
                + ResilienceFleet.get(cp.url(), id) + "\ncontrol plane:\n" + cp.tail());
    }

    private void trial(String prefix, String kind, int mib, boolean healthcheck) throws Exception {
        trial(prefix, kind, mib, healthcheck, (id, app) -> () -> true);
    }

    /** What must have happened on node b (given the migration id and the app) before the kill. */
    interface Landed {
        java.util.function.BooleanSupplier of(String id, String app);
    }

    private void trial(String prefix, String kind, int mib, boolean healthcheck, Landed landed) throws Exception {
        long t0 = System.nanoTime();
        ResilienceFleet.App app = deploy(prefix, mib, healthcheck);
        List<String> neighbours = foreignNeighbours(app.name());
        TreeMap<String, String> beforeA = Docker.view(dockerA, app.name());
        TreeMap<String, String> beforeB = Docker.view(dockerB, app.name());
        assertThat(beforeB).isEmpty();
        JsonNode end;
        try (Watch watch = new Watch(app.name())) {
            String id = create(app.name());
            killWhenRunning(id, kind, landed.of(id, app.name()), Duration.ofSeconds(60));
            // cut off mid-operation: the journal's last word on it is RUNNING
            assertThat(journal(id, kind)).as("node b's journal at the kill").containsExactly("RUNNING");
            awaitNoticedDeadAgent(id, Duration.ofSeconds(30));
            startAgentB();
            // the restart reconciled the journal: the cut-off operation is now recorded as failed
            List<String> after = journal(id, kind);
            assertThat(after).as("node b's journal after the restart").hasSize(2);
            assertThat(after.get(1)).startsWith("FAILED interrupted: the agent stopped while");
            end = ResilienceFleet.awaitEnd(cp.url(), id, Duration.ofSeconds(90));
            watch.close();
            assertThat(watch.violations).as("polls that saw two running copies").isEmpty();
            assertThat(watch.polls).as("polls of both engines").isPositive();
        }
        String state = end.get("state").asText().toUpperCase(java.util.Locale.ROOT);
        TreeMap<String, String> afterA = Docker.view(dockerA, app.name());
        TreeMap<String, String> afterB = Docker.view(dockerB, app.name());
        if (state.equals("FAILED")) {
            assertThat(end.toString()).as("the failure names the agent's restart").contains("interrupted");
            assertThat(afterA).as("node a as before the migration").isEqualTo(beforeA);
            assertThat(afterB).as("node b holds nothing of the app").isEqualTo(beforeB);
        } else {
            assertThat(state).as("the migration's end: " + end).isEqualTo("DONE");
            assertThat(Docker.running(dockerB, app.name())).containsExactly(app.name());
            assertThat(Docker.running(dockerA, app.name())).isEmpty();
            assertThat(afterB.get("volume " + app.name() + "-data")).isEqualTo(beforeA.get("volume " + app.name() + "-data"));
        }
        assertForeignSurvive(neighbours);
        if (state.equals("FAILED")) {
            // nothing of the migration is left on node b: no image, no staging, no archive copy
            assertThat(Docker.run(dockerB, "images", "-q", "fleet-migration/" + app.name())).as("images on b").isEmpty();
            try (Stream<Path> files = Files.list(dir.resolve("archive-b"))) {
                assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.contains(end.get("id").asText())))
                        .as("files of the migration in b's archive dir").isEmpty();
            }
            try (Stream<Path> files = Files.list(stagingB)) {
                assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.contains(end.get("id").asText())))
                        .as("staging of the migration under b's data root").isEmpty();
            }
        }
        assertThat(ResilienceFleet.httpGet(app.port())).contains("served by " + app.name());
        System.out.printf("agent crash at %s: %s ended %s in %d ms (%s)%n", kind, app.name(), state,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), end.path("failure").path("reason").asText("-"));
        System.out.printf("agent crash at %s: compensation %s%n", kind, end.path("failure").path("compensation"));
    }

    @Test
    @Order(1)
    @DisplayName("agent b SIGKILLed mid-restore, restarted: the journal fails the restore, compensation by label")
    void killedMidRestore() throws Exception {
        // killed once the restore has written to b's disk (its staging directory, under b's data root, exists)
        trial("agentcrash-restore", "RESTORE", 64, false, (id, app) -> () -> Files.exists(
                stagingB.resolve(id + ".staging")));
    }

    @Test
    @Order(2)
    @DisplayName("agent b SIGKILLed mid-cutover (start-target), restarted: never two copies, source back")
    void killedMidCutover() throws Exception {
        // killed while the target copy already runs on b and waits for its health gate (source stopped)
        trial("agentcrash-cutover", "START_TARGET", 1, true, (id, app) -> () -> !Docker.running(dockerB, app).isEmpty());
    }

    @Test
    @Order(3)
    @DisplayName("after a DONE migration, restarting the source's dockerd does not revive the retired source")
    void dockerdRestartDoesNotReviveSource() throws Exception {
        ResilienceFleet.App app = deploy("dockerd-restart", 1, false);
        String id = create(app.name());
        JsonNode end = ResilienceFleet.awaitEnd(cp.url(), id, Duration.ofSeconds(90));
        assertThat(end.get("state").asText()).as("the migration: " + end).isEqualToIgnoringCase("DONE");
        String retired = Docker.run(dockerA, "ps", "-a", "--filter", "name=" + app.name(), "--format", "{{.Names}}");
        assertThat(retired).as("the retired source on node a").startsWith(app.name() + ".migrated-");
        restartDockerd(dockerA);
        assertThat(Docker.run(dockerA, "inspect", "--format", "{{.State.Running}} {{.HostConfig.RestartPolicy.Name}}",
                retired)).as("the retired source after dockerd restarted").isEqualTo("false no");
        // and still not in the following seconds (a restart policy would have started it by now):
        // watched every 100 ms, so a revival fails the test when it happens
        long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (System.nanoTime() < until) {
            assertThat(Docker.running(dockerA, app.name())).as("running on node a after the restart").isEmpty();
            Thread.sleep(100);
        }
        assertThat(Docker.running(dockerB, app.name())).containsExactly(app.name());
        assertThat(ResilienceFleet.httpGet(app.port())).contains("served by " + app.name());
    }

    /**
     * SIGTERM to the engine behind {@code host} (a unix socket that scripts/ci/services/docker.sh
     * started, its pid file beside it) and the same command line again, detached, until it answers.
     */
    private void restartDockerd(String host) throws Exception {
        Path sock = Path.of(host.replaceFirst("^unix://", ""));
        Path pidFile = sock.resolveSibling("dockerd.pid");
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        ProcessHandle old = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no dockerd " + pid));
        byte[] raw = Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"));
        List<String> cmd = new ArrayList<>();
        int from = 0;
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == 0) {
                cmd.add(new String(raw, from, i - from, StandardCharsets.UTF_8));
                from = i + 1;
            }
        }
        assertThat(cmd.get(0)).endsWith("dockerd");
        old.destroy(); // SIGTERM
        assertThat(old.onExit().get(90, TimeUnit.SECONDS).isAlive()).isFalse();
        List<String> detached = new ArrayList<>(List.of("setsid"));
        detached.addAll(cmd);
        new ProcessBuilder(detached).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(sock.resolveSibling("dockerd.log").toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!Docker.quietly(host, "info", "--format", "{{.ID}}").isEmpty()) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("dockerd behind " + host + " did not come back within 60 s");
    }

    /**
     * Waits until the control plane has met node b's dead agent: the migration says it is
     * retrying, or has already moved on to failing or ended.
     */
    private void awaitNoticedDeadAgent(String id, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        JsonNode m = null;
        while (System.nanoTime() < deadline) {
            m = ResilienceFleet.get(cp.url(), id);
            if (m.path("detail").asText("").startsWith("retrying") || m.hasNonNull("failing")
                    || !m.path("active").asBoolean(true)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the control plane did not notice node b's agent was gone within " + within
                + "; last seen: " + m + "\ncontrol plane:\n" + cp.tail());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
