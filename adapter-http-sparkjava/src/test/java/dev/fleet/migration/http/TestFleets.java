package dev.fleet.migration.http;

import dev.fleet.migration.core.MigrationIds;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.testing.FakeFleet;
import java.time.Clock;
import java.time.Duration;

/** Control planes over FakeFleet nodes, for tests. */
public final class TestFleets {
    public static final String OPERATOR = "operator-token-0123456789abcdef";
    public static final String AGENT = "agent-token-0123456789abcdef";

    private TestFleets() {}

    /** Nodes a, b and c in-process; scheduler as given (ZERO = off). */
    public static ControlPlane controlPlane(FakeFleet fleet, Duration schedulerInterval) {
        return ControlPlane.builder().listen("127.0.0.1", 0).operatorToken(OPERATOR).agentToken(AGENT)
                .store(new InMemoryMigrationStore())
                .node(fleet.node("a"), "127.0.0.1").node(fleet.node("b"), "127.0.0.1").node(fleet.node("c"), "127.0.0.1")
                .ids(MigrationIds.sequential("t"))
                .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(schedulerInterval))
                .start();
    }

    public static FakeFleet instantFleet() {
        return new FakeFleet(Clock.systemUTC(), 7);
    }
}
