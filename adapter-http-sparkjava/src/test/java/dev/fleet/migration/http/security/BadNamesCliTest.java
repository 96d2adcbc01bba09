package dev.fleet.migration.http.security;

import static dev.fleet.migration.http.TestFleets.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.http.cli.FleetCli;
import dev.fleet.migration.http.cli.NodeAgentFactory;
import dev.fleet.migration.http.security.HostileNames.Name;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 9, "Bad names", and issue 6's "the same errors from {@code fleet} print one clear line
 * and exit non-zero", through the command line: {@code migrate}, {@code show}, {@code advance}
 * and {@code abort} with every hostile name exit 2 (the documented code for refused input) with
 * one line on stderr that starts {@code fleet: } and names the field, print nothing on stdout,
 * and change nothing anywhere.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("hostile names given to the fleet command line")
class BadNamesCliTest {
    private GuardedFleet g;

    record Run(int code, String out, String err) {}

    @BeforeAll
    void start() {
        g = new GuardedFleet();
    }

    @AfterAll
    void stop() {
        g.close();
    }

    private Run fleet(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new FleetCli(Map.of("FLEET_URL", g.cp.url(), "FLEET_TOKEN", OPERATOR), NodeAgentFactory.NONE,
                new CountDownLatch(1)).run(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    /**
     * Every hostile name once (a run costs a picocli parse, so the commands take turns): app ids
     * through {@code migrate APP} ({@code --} first when the value starts with a dash), node ids
     * through {@code --from=} and {@code --to=} in turn, every other migration id through
     * {@code show}, {@code advance} and {@code abort} in turn (all of them go through the API).
     */
    Stream<Arguments> commands() {
        List<Arguments> out = new ArrayList<>();
        for (Name n : HostileNames.appIds()) {
            String v = n.value();
            out.add(v.startsWith("-")
                    ? Arguments.of("migrate -- APP", n, new String[] {"migrate", "--from", "a", "--to", "c", "--", v},
                    "appId ")
                    : Arguments.of("migrate APP", n, new String[] {"migrate", v, "--from", "a", "--to", "c"}, "appId "));
        }
        int i = 0;
        for (Name n : HostileNames.nodeIds()) {
            out.add(i++ % 2 == 0
                    ? Arguments.of("migrate --from=NODE", n, new String[] {"migrate", "web", "--from=" + n.value(), "--to",
                    "c"}, "source ")
                    : Arguments.of("migrate --to=NODE", n, new String[] {"migrate", "web", "--from", "a",
                    "--to=" + n.value()}, "target "));
        }
        List<String> commands = List.of("show", "advance", "abort");
        i = 0;
        int k = 0;
        for (Name n : HostileNames.migrationIds()) {
            if (k++ % 2 == 1) {
                continue; // every other id: the three commands share one check, and each run costs a picocli model
            }
            String cmd = commands.get(i++ % 3);
            out.add(n.value().startsWith("-")
                    ? Arguments.of(cmd + " -- ID", n, new String[] {cmd, "--", n.value()}, "migrationId ")
                    : Arguments.of(cmd + " ID", n, new String[] {cmd, n.value()}, "migrationId "));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "fleet {0} with {1}")
    @MethodSource("commands")
    @DisplayName("each hostile name exits 2 with one line naming the field, and changes nothing")
    void hostileNameExitsTwoWithOneLine(String shape, Name name, String[] args, String field) {
        String before = g.state();

        Run r = fleet(args);

        assertThat(r.code()).as(r.err()).isEqualTo(FleetCli.EXIT_USAGE);
        assertOneClearLine(r);
        assertThat(r.err()).as("names the field").startsWith("fleet: " + field);
        assertThat(r.out()).as("nothing on stdout").isEmpty();
        assertNothingHappened(before);
    }

    @Test
    @DisplayName("a value that looks like an option or an @file is a usage error (exit 2, one line), never read as a file")
    void optionLikeValuesAreUsageErrors() {
        String before = g.state();
        List<String[]> cases = List.of(
                new String[] {"migrate", "-web", "--from", "a", "--to", "c"},
                new String[] {"migrate", "--help\n--from", "--from", "a", "--to", "c"},
                new String[] {"migrate", "web", "--from", "-a", "--to", "c"},
                new String[] {"migrate", "@/etc/hostname", "--from", "a", "--to", "c"},
                new String[] {"show", "@/etc/hostname"},
                new String[] {"show", "-rf"},
                new String[] {"abort", "--reason"},
                new String[] {"advance", "-\u202eid"});
        for (String[] args : cases) {
            Run r = fleet(args);
            assertThat(r.code()).as(String.join(" ", args) + ": " + r.err()).isEqualTo(FleetCli.EXIT_USAGE);
            assertOneClearLine(r);
            assertThat(r.out()).isEmpty();
        }
        assertNothingHappened(before);
    }

    private static void assertOneClearLine(Run r) {
        String err = r.err();
        assertThat(err).as("ends with one newline").endsWith(System.lineSeparator());
        String line = err.substring(0, err.length() - System.lineSeparator().length());
        assertThat(line).as("one line starting 'fleet: '").startsWith("fleet: ").doesNotContain("\n", "\r");
        assertThat(line).as("no raw control, separator or bidi characters")
                .doesNotContainPattern("[\\x00-\\x1f\\x7f-\\x9f\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff]");
        assertThat(line).as("no stack trace").doesNotContain("Exception", "\tat ");
        assertThat(line.length()).as("short enough to read").isLessThan(600);
    }

    private void assertNothingHappened(String before) {
        assertThat(g.state()).as("store and nodes unchanged").isEqualTo(before);
        assertThat(g.agentCalls()).as("no agent was called").isEmpty();
        assertThat(g.processes.spawned()).as("no external process was started").isEmpty();
    }
}
