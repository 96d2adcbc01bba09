package dev.fleet.migration.http.security;

import static dev.fleet.migration.http.TestFleets.AGENT;
import static dev.fleet.migration.http.TestFleets.OPERATOR;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationIds;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.http.ControlPlane;
import dev.fleet.migration.http.TestFleets;
import dev.fleet.migration.http.agent.AgentServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A control plane (scheduler and retention sweep off) over nodes a, b and c whose agents are {@link TripwireAgent}s
 * around a fake fleet, plus an agent server for node a over another tripwire, with everything
 * a test needs to prove a refused request changed nothing: the store's full state, each node's
 * inventory, every agent call, every process started.
 */
final class GuardedFleet implements AutoCloseable {
    final FakeFleet fleet = TestFleets.instantFleet();
    final Map<String, TripwireAgent> agents = new LinkedHashMap<>();
    final TripwireAgent served;
    final ControlPlane cp;
    final AgentServer agent;
    /** A migration that exists (pending) before any hostile request, so a tick or abort on it would show. */
    final String existingId;
    final ProcessWatch processes;

    GuardedFleet() {
        ControlPlane.Builder b = ControlPlane.builder().listen("127.0.0.1", 0).operatorToken(OPERATOR)
                .agentToken(AGENT).store(new InMemoryMigrationStore()).ids(MigrationIds.sequential("s"))
                .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ZERO))
                .sweepEvery(Duration.ZERO); // background work off: every agent call must come from a request
        for (String n : List.of("a", "b", "c")) {
            TripwireAgent t = new TripwireAgent(fleet.node(n));
            agents.put(n, t);
            b.node(t, "127.0.0.1");
        }
        fleet.deploy("a", AppRef.container("web"), 8080);
        cp = b.start();
        served = new TripwireAgent(fleet.node("a"));
        agent = AgentServer.builder(served).listen("127.0.0.1", 0).token(AGENT).operatorToken(OPERATOR).build()
                .start();
        existingId = cp.orchestrator().create("web", "a", "b").id().value();
        processes = ProcessWatch.open();
    }

    /** Everything that must not change: every migration with its full history, and each node's inventory. */
    String state() {
        StringBuilder sb = new StringBuilder();
        for (Migration m : cp.store().list()) {
            sb.append(m).append(" history=").append(cp.store().history(m.id())).append('\n');
        }
        for (String n : List.of("a", "b", "c")) {
            sb.append(n).append(": ").append(fleet.snapshotOf(n)).append('\n');
        }
        return sb.toString();
    }

    /** Every agent call recorded so far, by node; empty when no agent was touched. */
    List<String> agentCalls() {
        List<String> all = new ArrayList<>();
        agents.forEach((n, t) -> t.calls().forEach(c -> all.add("control plane -> " + n + ": " + c)));
        served.calls().forEach(c -> all.add("agent server a: " + c));
        return all;
    }

    @Override
    public void close() {
        processes.close();
        agent.close();
        cp.close();
    }
}
