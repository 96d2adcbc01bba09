package dev.fleet.migration.core.testing;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.contract.NodeAgentContract;
import dev.fleet.migration.core.spi.NodeAgent;
import java.time.Duration;

/** The fake agent the property tests rely on must itself keep the agent contract. */
class FakeNodeAgentContractTest extends NodeAgentContract {
    private final MutableClock clock = MutableClock.at("2026-01-01T00:00:00Z");
    private final FakeFleet fleet = new FakeFleet(clock, 42).durations(Duration.ofSeconds(3));

    @Override
    protected NodeAgent source() {
        return fleet.node("a");
    }

    @Override
    protected NodeAgent target() {
        return fleet.node("b");
    }

    @Override
    protected AppRef deployApp(String name) {
        source();
        target();
        AppRef app = AppRef.container(name);
        fleet.deploy("a", app, 8080);
        return app;
    }

    @Override
    protected void deployForeignContainer(String name) {
        target();
        fleet.deployForeign("b", name);
    }

    @Override
    protected void pause() {
        clock.advance(Duration.ofMillis(500));
    }
}
