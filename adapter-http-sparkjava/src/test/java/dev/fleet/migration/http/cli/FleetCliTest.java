package dev.fleet.migration.http.cli;

import static dev.fleet.migration.http.TestFleets.AGENT;
import static dev.fleet.migration.http.TestFleets.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.http.ControlPlane;
import dev.fleet.migration.http.TestFleets;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The CLI, run in-process against control planes in the same JVM. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FleetCliTest {
    private FakeFleet fleet;
    private FakeFleet failing;
    private ControlPlane cp;
    private ControlPlane failingCp;

    record Run(int code, String out, String err) {}

    @BeforeAll
    void start() {
        fleet = new FakeFleet(Clock.systemUTC(), 11).durations(Duration.ofMillis(600));
        cp = TestFleets.controlPlane(fleet, Duration.ofMillis(100));
        failing = new FakeFleet(Clock.systemUTC(), 12).failureRate(1.0);
        failingCp = TestFleets.controlPlane(failing, Duration.ofMillis(100));
        for (String app : new String[] {"web", "api", "db", "cache"}) {
            fleet.deploy("a", AppRef.container(app), 8080);
        }
        failing.deploy("a", AppRef.container("web"), 8080);
    }

    @AfterAll
    void stop() {
        cp.close();
        failingCp.close();
    }

    private Run fleet(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new FleetCli(env, NodeAgentFactory.NONE, new CountDownLatch(1))
                .run(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    private Run fleet(String... args) {
        return fleet(Map.of("FLEET_URL", cp.url(), "FLEET_TOKEN", OPERATOR), args);
    }

    private static void assertOneLine(Run r, String contains) {
        assertThat(r.err().strip()).contains(contains).doesNotContain("\n").startsWith("fleet: ");
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    @DisplayName("migrate --wait redraws one progress line in place and exits 0 when done")
    void migrateWaitShowsProgressAndEndsDone() {
        Run r = fleet("migrate", "web", "--from", "a", "--to", "b", "--wait", "--poll", "100");
        assertThat(r.code()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("started m-t-").contains("\r").contains("done");
        assertThat(r.out()).containsPattern("transferring|restoring|snapshotting|cutover");
        assertThat(r.out()).contains("[########################]");
        assertThat(fleet.runningOn(AppRef.container("web"))).containsExactly("b");

        Run list = fleet("list");
        assertThat(list.code()).isEqualTo(0);
        assertThat(list.out()).startsWith("ID").contains("web").contains("done");
        String id = r.out().replaceAll("(?s).*started (m-t-\\d+).*", "$1");
        Run show = fleet("show", id);
        assertThat(show.out()).contains("state:     done").contains("archive:").contains("downtime:");
    }

    @Test
    @DisplayName("migrate --wait exits 1 with the reason when the migration ends FAILED")
    void migrateWaitExitsOneWhenFailed() {
        Run r = fleet(Map.of("FLEET_URL", failingCp.url(), "FLEET_TOKEN", OPERATOR),
                "migrate", "web", "--from", "a", "--to", "b", "--wait", "--poll", "100");
        assertThat(r.code()).isEqualTo(1);
        assertOneLine(r, "failed in snapshotting: snapshot on node a failed");
    }

    @Test
    @DisplayName("advance ticks and abort aborts with its reason; a second abort is a conflict (4)")
    void advanceAndAbort() {
        Run started = fleet("migrate", "api", "--from", "a", "--to", "c",
                "--url", cp.url(), "--token", OPERATOR);
        String id = started.out().replaceAll("(?s).*started (m-t-\\d+).*", "$1").strip();
        assertThat(fleet("advance", id).code()).isEqualTo(0);
        Run abort = fleet("abort", id, "--reason", "wrong target");
        assertThat(abort.code()).isEqualTo(0);
        assertThat(abort.out()).contains(id + ": failed (aborted: wrong target)");
        Run again = fleet("abort", id);
        assertThat(again.code()).isEqualTo(4);
        assertOneLine(again, "is FAILED and cannot fail");
        assertThat(fleet("advance", id).code()).isEqualTo(4);
    }

    @Test
    @DisplayName("bad input prints one line and exits 2; unknown ids 3; a duplicate 4")
    void errorsPrintOneLineWithTheirCode() {
        Run badApp = fleet("migrate", "../x", "--from", "a", "--to", "b");
        assertThat(badApp.code()).isEqualTo(2);
        assertOneLine(badApp, "appId must match");
        Run unknownNode = fleet("migrate", "db", "--from", "a", "--to", "zz");
        assertThat(unknownNode.code()).isEqualTo(2);
        assertOneLine(unknownNode, "target names unknown node 'zz'; configured nodes: a, b, c");
        Run same = fleet("migrate", "db", "--from", "a", "--to", "a");
        assertThat(same.code()).isEqualTo(2);
        assertOneLine(same, "target must differ from source 'a'");
        Run notFound = fleet("show", "m-nope");
        assertThat(notFound.code()).isEqualTo(3);
        assertOneLine(notFound, "no migration with id m-nope");

        assertThat(fleet("migrate", "cache", "--from", "a", "--to", "b").code()).isEqualTo(0);
        Run dup = fleet("migrate", "cache", "--from", "a", "--to", "c");
        assertThat(dup.code()).isEqualTo(4);
        assertOneLine(dup, "app 'cache' already has an active migration");

        Run usage = fleet("migrate", "db", "--from", "a");
        assertThat(usage.code()).isEqualTo(2);
        assertOneLine(usage, "Missing required option: '--to=NODE'");
    }

    @Test
    @DisplayName("an unreachable control plane, a missing, wrong or agent token exit 5")
    void unreachableOrRefusedExitsFive() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Run down = fleet(Map.of("FLEET_URL", "http://127.0.0.1:" + port, "FLEET_TOKEN", OPERATOR), "list");
        assertThat(down.code()).isEqualTo(5);
        assertOneLine(down, "cannot reach the control plane at http://127.0.0.1:" + port);
        Run none = fleet(Map.of("FLEET_URL", cp.url()), "list");
        assertThat(none.code()).isEqualTo(5);
        assertOneLine(none, "no operator token");
        Run wrong = fleet(Map.of("FLEET_URL", cp.url(), "FLEET_TOKEN", "w".repeat(20)), "list");
        assertThat(wrong.code()).isEqualTo(5);
        assertOneLine(wrong, "wrong bearer token");
        Run agent = fleet(Map.of("FLEET_URL", cp.url(), "FLEET_TOKEN", AGENT), "list");
        assertThat(agent.code()).isEqualTo(5);
        assertOneLine(agent, "accepts only the operator token");
    }

    @Test
    @DisplayName("--help lists the commands and the exit codes")
    void helpListsCommandsAndExitCodes() {
        Run help = fleet("--help");
        assertThat(help.code()).isEqualTo(0);
        assertThat(help.out()).contains("serve", "agent", "migrate", "list", "show", "advance", "abort")
                .contains("Exit codes:").contains("the migration ended FAILED").contains("unreachable");
    }

    @Test
    @DisplayName("agent without a wired node implementation says so in one line and exits 2")
    void agentWithoutImplementationSaysSo() throws Exception {
        java.nio.file.Path cfg = java.nio.file.Files.createTempFile("fleet", ".yaml");
        java.nio.file.Files.writeString(cfg, """
                tokens: {operator: %s, agent: %s}
                nodes:
                  - {id: a, agentUrl: "http://127.0.0.1:7001"}
                  - {id: b, agentUrl: "http://127.0.0.1:7002"}
                """.formatted(OPERATOR, AGENT));
        Run r = fleet("agent", "--config", cfg.toString(), "--node", "a");
        assertThat(r.code()).isEqualTo(2);
        assertOneLine(r, "no node agent implementation wired in");
        Run unknown = fleet("agent", "--config", cfg.toString(), "--node", "q");
        assertThat(unknown.code()).isEqualTo(2);
        assertOneLine(unknown, "node 'q' is not in");
    }
}
