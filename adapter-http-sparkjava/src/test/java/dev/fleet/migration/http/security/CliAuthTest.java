package dev.fleet.migration.http.security;

import static dev.fleet.migration.http.TestFleets.AGENT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.http.cli.FleetCli;
import dev.fleet.migration.http.cli.NodeAgentFactory;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The auth matrix from the command line: every client command of {@code fleet} with no token, a
 * wrong token, the agents' token and a malformed one exits 5 (documented: "the control plane is
 * unreachable, or refused the token") with one line on stderr, and changes nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("fleet with a bad token")
class CliAuthTest {
    private GuardedFleet g;

    @BeforeAll
    void start() {
        g = new GuardedFleet();
    }

    @AfterAll
    void stop() {
        g.close();
    }

    Stream<Arguments> commandsTimesTokens() {
        List<String[]> commands = List.of(new String[] {"migrate", "web", "--from", "a", "--to", "c"},
                new String[] {"list"}, new String[] {"show", "ID"}, new String[] {"advance", "ID"},
                new String[] {"abort", "ID", "--reason", "auth"});
        Map<String, String[]> tokens = new java.util.LinkedHashMap<>();
        tokens.put("no token", new String[] {null, "no operator token"});
        tokens.put("a wrong token", new String[] {"wrong-token-0123456789abcdef", "wrong bearer token"});
        tokens.put("the agents' token", new String[] {AGENT, "accepts only the operator token"});
        tokens.put("a token with a blank", new String[] {"operator token", "wrong bearer token"});
        List<Arguments> out = new ArrayList<>();
        for (String[] c : commands) {
            tokens.forEach((name, t) -> out.add(Arguments.of(String.join(" ", c), name, c, t[0], t[1])));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "fleet {0} with {1}")
    @MethodSource("commandsTimesTokens")
    @DisplayName("exits 5 with one line, and nothing changes")
    void badTokenExitsFive(String shown, String tokenName, String[] command, String token, String message) {
        String before = g.state();
        Map<String, String> env = new HashMap<>();
        env.put("FLEET_URL", g.cp.url());
        if (token != null) {
            env.put("FLEET_TOKEN", token);
        }
        String[] args = command.clone();
        for (int i = 0; i < args.length; i++) {
            args[i] = args[i].equals("ID") ? g.existingId : args[i];
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = new FleetCli(env, NodeAgentFactory.NONE, new CountDownLatch(1))
                .run(new PrintWriter(out), new PrintWriter(err), args);

        assertThat(code).as(err.toString()).isEqualTo(FleetCli.EXIT_UNREACHABLE);
        assertThat(err.toString().strip()).startsWith("fleet: ").contains(message).doesNotContain("\n")
                .doesNotContain("Exception");
        assertThat(out.toString()).isEmpty();
        assertThat(g.state()).as("store and nodes unchanged").isEqualTo(before);
        assertThat(g.agentCalls()).as("no agent was called").isEmpty();
        assertThat(g.processes.spawned()).as("no external process was started").isEmpty();
    }
}
