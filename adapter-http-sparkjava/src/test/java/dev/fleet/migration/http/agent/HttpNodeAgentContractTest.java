package dev.fleet.migration.http.agent;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.contract.NodeAgentContract;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.core.testing.MutableClock;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The HTTP client of the agent API keeps the same contract as the agent it talks to. */
class HttpNodeAgentContractTest extends NodeAgentContract {
    static final String TOKEN = "control-plane-token-0123456789";
    private static final MutableClock clock = MutableClock.at("2026-01-01T00:00:00Z");
    private static final FakeFleet fleet = new FakeFleet(clock, 42).durations(Duration.ofSeconds(3));
    private static AgentServer serverA;
    private static AgentServer serverB;
    private static HttpNodeAgent a;
    private static HttpNodeAgent b;

    @BeforeAll
    static void startAgents() {
        serverA = AgentServer.builder(fleet.node("a")).listen("127.0.0.1", 0).token(TOKEN).build().start();
        serverB = AgentServer.builder(fleet.node("b")).listen("127.0.0.1", 0).token(TOKEN).build().start();
        a = HttpNodeAgent.builder(NodeId.of("a"), URI.create(serverA.url())).token(TOKEN).build();
        b = HttpNodeAgent.builder(NodeId.of("b"), URI.create(serverB.url())).token(TOKEN).build();
    }

    @AfterAll
    static void stopAgents() {
        serverA.close();
        serverB.close();
    }

    @Override
    protected NodeAgent source() {
        return a;
    }

    @Override
    protected NodeAgent target() {
        return b;
    }

    @Override
    protected AppRef deployApp(String name) {
        AppRef app = AppRef.container(name);
        fleet.deploy("a", app, 8080);
        return app;
    }

    @Override
    protected void deployForeignContainer(String name) {
        fleet.deployForeign("b", name);
    }

    @Override
    protected void pause() {
        clock.advance(Duration.ofMillis(500));
    }
}
