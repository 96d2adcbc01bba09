package dev.fleet.migration.http.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.Names;
import dev.fleet.migration.http.ControlPlane;
import dev.fleet.migration.http.agent.AgentServer;
import dev.fleet.migration.http.config.ConfigException;
import dev.fleet.migration.http.config.FleetConfig;
import dev.fleet.migration.http.wire.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code fleet}: runs a control plane or a node agent, and drives migrations through the
 * control plane's API. Every error prints one line on stderr and exits with a documented code.
 */
@Command(name = "fleet", mixinStandardHelpOptions = true, version = "fleet 0.1.0",
        description = "Moves a running containerised app from one node to another.",
        subcommands = {FleetCli.Serve.class, FleetCli.Agent.class, FleetCli.Migrate.class, FleetCli.ListCmd.class,
                FleetCli.Show.class, FleetCli.Advance.class, FleetCli.Abort.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success",
            "1:the migration ended FAILED (migrate --wait)",
            "2:usage error or input the control plane refused (bad app id, unknown node, bad config)",
            "3:no such migration",
            "4:conflict (the app already migrates, or the migration already ended)",
            "5:the control plane is unreachable, or refused the token"})
public final class FleetCli implements Runnable {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_NOT_FOUND = 3;
    public static final int EXIT_CONFLICT = 4;
    public static final int EXIT_UNREACHABLE = 5;

    private final Map<String, String> env;
    private final NodeAgentFactory agents;
    private final CountDownLatch stop;
    @Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * @param env    the environment (FLEET_URL, FLEET_TOKEN)
     * @param agents makes the agent {@code fleet agent} serves
     * @param stop   counted down to stop a running {@code serve} or {@code agent} (tests); the
     *               command line process stops them with a signal
     */
    public FleetCli(Map<String, String> env, NodeAgentFactory agents, CountDownLatch stop) {
        this.env = Map.copyOf(env);
        this.agents = Objects.requireNonNull(agents, "agents");
        this.stop = stop;
    }

    public static void main(String[] args) {
        FleetCli cli = new FleetCli(System.getenv(), dev.fleet.migration.http.Wiring.dockerAgents(),
                new CountDownLatch(1));
        System.exit(cli.run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs one command line; returns the exit code. */
    public int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(this);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExpandAtFiles(false); // an argument "@/some/file" is a value, never a file to read arguments from
        cl.setParameterExceptionHandler((e, a) -> {
            err.println(oneLine("fleet: " + e.getMessage() + " (see '"
                    + e.getCommandLine().getCommandSpec().qualifiedName() + " --help')"));
            err.flush();
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof CliException c) {
                err.println(oneLine("fleet: " + c.getMessage()));
                err.flush();
                return c.exitCode();
            }
            if (e instanceof ConfigException) {
                err.println(oneLine("fleet: " + e.getMessage()));
                err.flush();
                return EXIT_USAGE;
            }
            if (e instanceof InvalidInputException) { // checked before anything was sent
                err.println(oneLine("fleet: " + e.getMessage()));
                err.flush();
                return EXIT_USAGE;
            }
            err.println(oneLine("fleet: " + (e.getMessage() == null ? e.toString() : e.getMessage())));
            err.flush();
            return e instanceof IllegalStateException || e instanceof IllegalArgumentException ? EXIT_USAGE
                    : EXIT_UNREACHABLE;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /**
     * The API path of one migration. The id is checked first ({@code migrationId must match
     * ...}, exit 2): pasted into the URL as it came, {@code ../nodes} would have been another
     * route and {@code a b} an unreadable URL.
     */
    static String migrationPath(String id) {
        return "/api/migrations/" + MigrationId.of(id).value();
    }

    /**
     * Keeps an error on one line and readable whatever the user typed: control characters, line
     * and paragraph separators, zero-width and bidirectional-override characters become
     * backslash-u escapes (picocli's own messages repeat the raw argument).
     */
    static String oneLine(String message) {
        StringBuilder b = new StringBuilder(message.length());
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            boolean hidden = c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x200b && c <= 0x200f)
                    || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) || c == 0xfeff;
            b.append(hidden ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return b.toString();
    }

    void awaitStop() {
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The options every client command shares. */
    static class ClientOptions {
        @Option(names = "--url", paramLabel = "URL", description = "The control plane, e.g. http://127.0.0.1:8080"
                + " (default: $FLEET_URL).")
        String url;

        @Option(names = "--token", paramLabel = "TOKEN", description = "The operators' token (default: $FLEET_TOKEN).")
        String token;

        ApiClient client(FleetCli root) {
            return new ApiClient(url != null ? url : root.env.getOrDefault("FLEET_URL", "http://127.0.0.1:8080"),
                    token != null ? token : root.env.get("FLEET_TOKEN"));
        }
    }

    @Command(name = "serve", mixinStandardHelpOptions = true,
            description = "Runs the control plane: API, Control Panel at /, /metrics, and the scheduler.")
    static final class Serve implements Callable<Integer> {
        @ParentCommand
        FleetCli root;

        @Option(names = "--config", required = true, paramLabel = "FILE", description = "The fleet's YAML config.")
        Path config;

        @Override
        public Integer call() {
            FleetConfig cfg = FleetConfig.load(config);
            try (ControlPlane cp = ControlPlane.fromConfig(cfg).start()) {
                root.out().println("fleet: control plane listening on " + cp.url() + " (nodes "
                        + cp.orchestrator().nodes() + ")");
                root.out().flush();
                Thread hook = new Thread(root.stop::countDown);
                Runtime.getRuntime().addShutdownHook(hook);
                root.awaitStop();
            }
            return EXIT_OK;
        }
    }

    @Command(name = "agent", mixinStandardHelpOptions = true,
            description = "Runs the node agent of one node, where its agentUrl in the config points.")
    static final class Agent implements Callable<Integer> {
        @ParentCommand
        FleetCli root;

        @Option(names = "--config", required = true, paramLabel = "FILE", description = "The fleet's YAML config.")
        Path config;

        @Option(names = "--node", required = true, paramLabel = "ID", description = "Which configured node this is.")
        String node;

        @Override
        public Integer call() {
            FleetConfig cfg = FleetConfig.load(config);
            FleetConfig.Node n = cfg.node(node).orElseThrow(() -> new CliException(EXIT_USAGE, "node '" + node
                    + "' is not in " + config + "; configured nodes: " + String.join(", ",
                    cfg.nodes().stream().map(x -> x.id().value()).toList())));
            try (AgentServer server = AgentServer.builder(root.agents.create(n, cfg))
                    .listen(n.listenHost(), n.listenPort()).token(cfg.tokens().agent())
                    .operatorToken(cfg.tokens().operator()).tls(n.tls().orElse(null)).build().start()) {
                root.out().println("fleet: agent of node " + n.id() + " listening on " + server.url());
                root.out().flush();
                Runtime.getRuntime().addShutdownHook(new Thread(root.stop::countDown));
                root.awaitStop();
            }
            return EXIT_OK;
        }
    }

    @Command(name = "migrate", mixinStandardHelpOptions = true,
            description = "Starts moving APP from one node to another; with --wait, follows it with a live"
                    + " progress bar until it ends.")
    static final class Migrate implements Callable<Integer> {
        @ParentCommand
        FleetCli root;

        @CommandLine.Mixin
        ClientOptions client = new ClientOptions();

        @Parameters(index = "0", paramLabel = "APP", description = "A container name, or compose:<project>.")
        String app;

        @Option(names = "--from", required = true, paramLabel = "NODE", description = "The source node.")
        String from;

        @Option(names = "--to", required = true, paramLabel = "NODE", description = "The target node.")
        String to;

        @Option(names = "--wait", description = "Follow the migration until it is done or failed.")
        boolean await;

        @Option(names = "--replay-of", paramLabel = "ID", description = "Replay the kept archive of this ended "
                + "migration instead of taking a new snapshot (it must have started on the --from node).")
        String replayOf;

        @Option(names = "--poll", paramLabel = "MILLIS", defaultValue = "1000", hidden = true)
        long pollMillis;

        @Override
        public Integer call() {
            // the control plane's own rules, checked before any connection is made (same messages)
            AppRef.parse(app);
            Names.require("source", from, Names.NODE_ID, 63);
            Names.require("target", to, Names.NODE_ID, 63);
            ApiClient api = client.client(root);
            ObjectNode body = Json.object();
            body.put("app", app);
            body.put("source", from);
            body.put("target", to);
            if (replayOf != null) {
                body.put("replayOf", replayOf);
            }
            JsonNode m = api.post("/api/migrations", body);
            PrintWriter out = root.out();
            String id = m.path("id").asText();
            out.println("fleet: started " + id + ": " + m.path("app").asText() + " from " + from + " to " + to);
            out.flush();
            if (!await) {
                return EXIT_OK;
            }
            int lastWidth = 0;
            while (m.path("active").asBoolean()) {
                String line = Format.progressLine(m);
                out.print("\r" + line + " ".repeat(Math.max(0, lastWidth - line.length())));
                out.flush();
                lastWidth = line.length();
                sleep(pollMillis);
                m = api.get("/api/migrations/" + id);
            }
            String line = Format.progressLine(m);
            out.println("\r" + line + " ".repeat(Math.max(0, lastWidth - line.length())));
            if (m.path("state").asText().equals("done")) {
                out.println("fleet: " + id + " done" + (m.hasNonNull("downtimeMs")
                        ? " (cutover downtime " + m.get("downtimeMs").asLong() + " ms)" : ""));
                out.flush();
                return EXIT_OK;
            }
            JsonNode f = m.path("failure");
            out.flush();
            throw new CliException(EXIT_FAILED, id + " failed in " + f.path("failedIn").asText() + ": "
                    + f.path("reason").asText());
        }

        private static void sleep(long ms) {
            try {
                Thread.sleep(ms); // the poll interval between two GETs, not a wait for a condition
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliException(EXIT_UNREACHABLE, "interrupted");
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = {"Lists migrations, newest first: the newest 50 unless told otherwise.",
                    "When more match, a note on stderr says how many and how to page."})
    static final class ListCmd implements Callable<Integer> {
        /** The API's largest page, used by --all. */
        static final int MAX_PAGE = 1000;

        @ParentCommand
        FleetCli root;

        @CommandLine.Mixin
        ClientOptions client = new ClientOptions();

        @Option(names = "--state", paramLabel = "STATE",
                description = "Only these: 'active', 'terminal', or states joined by commas (e.g. done,failed).")
        String state;

        @Option(names = "--app", paramLabel = "APP", description = "Only this app (a container name or compose:<project>).")
        String app;

        @Option(names = "--limit", paramLabel = "N", description = "At most N migrations (1 to 1000; default 50).")
        Integer limit;

        @Option(names = "--offset", paramLabel = "N", description = "Skip the newest N (default 0).")
        Integer offset;

        @Option(names = "--all", description = "Every match, read page by page.")
        boolean all;

        @Option(names = "--json", description = "Print the API's JSON (an array).")
        boolean json;

        @Override
        public Integer call() {
            ApiClient api = client.client(root);
            int start = offset == null ? 0 : offset;
            com.fasterxml.jackson.databind.node.ArrayNode shown = dev.fleet.migration.http.wire.Json.array();
            long total;
            int pageSize = all ? (limit == null ? MAX_PAGE : limit) : (limit == null ? -1 : limit);
            int at = start;
            while (true) {
                ApiClient.Reply r = api.getWithHeaders(path(at, pageSize));
                JsonNode page = r.json();
                page.forEach(shown::add);
                total = r.headers().firstValueAsLong("X-Total-Count").orElse(at + (long) page.size());
                at += page.size();
                if (!all || page.size() == 0 || at >= total) {
                    break;
                }
            }
            PrintWriter out = root.out();
            if (json) {
                out.println(shown.toPrettyString());
            } else {
                out.println(Format.header());
                shown.forEach(m -> out.println(Format.row(m)));
            }
            if (start + (long) shown.size() < total) {
                PrintWriter err = root.spec.commandLine().getErr();
                err.println("fleet: showed " + (shown.size() == 0 ? "none" : (start + 1) + "-" + (start + shown.size()))
                        + " of " + total + " migrations; --offset " + (start + shown.size())
                        + " shows the next ones, --all every one");
                err.flush();
            }
            return EXIT_OK;
        }

        private String path(int from, int size) {
            StringBuilder q = new StringBuilder();
            if (state != null) {
                q.append("&state=").append(java.net.URLEncoder.encode(state, java.nio.charset.StandardCharsets.UTF_8));
            }
            if (app != null) {
                q.append("&app=").append(java.net.URLEncoder.encode(app, java.nio.charset.StandardCharsets.UTF_8));
            }
            if (size > 0) {
                q.append("&limit=").append(size);
            }
            if (from > 0) {
                q.append("&offset=").append(from);
            }
            return "/api/migrations" + (q.length() == 0 ? "" : "?" + q.substring(1));
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows one migration.")
    static final class Show implements Callable<Integer> {
        @ParentCommand
        FleetCli root;

        @CommandLine.Mixin
        ClientOptions client = new ClientOptions();

        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Option(names = "--json", description = "Print the API's JSON.")
        boolean json;

        @Override
        public Integer call() {
            String path = migrationPath(id); // before any connection is made
            JsonNode m = client.client(root).get(path);
            PrintWriter out = root.out();
            if (json) {
                out.println(m.toPrettyString());
                return EXIT_OK;
            }
            out.println("id:        " + m.path("id").asText());
            out.println("app:       " + m.path("app").asText());
            out.println("from:      " + m.path("source").asText());
            out.println("to:        " + m.path("target").asText());
            out.println("state:     " + m.path("state").asText());
            out.println("progress:  " + Format.progressLine(m));
            for (JsonNode s : m.path("steps")) {
                out.println("  " + String.format(java.util.Locale.ROOT, "%-13s", s.path("state").asText())
                        + s.path("startedAt").asText() + (s.hasNonNull("durationMs")
                        ? "  " + s.get("durationMs").asLong() + " ms" : "  running"));
            }
            if (m.hasNonNull("archive")) {
                out.println("archive:   " + m.get("archive").path("path").asText() + " ("
                        + Format.bytes(m.get("archive").path("size").asLong()) + ", sha256 "
                        + m.get("archive").path("sha256").asText() + ")");
            }
            if (m.hasNonNull("downtimeMs")) {
                out.println("downtime:  " + m.get("downtimeMs").asLong() + " ms");
            }
            if (m.hasNonNull("failure")) {
                JsonNode f = m.get("failure");
                out.println("failed in: " + f.path("failedIn").asText());
                out.println("reason:    " + f.path("reason").asText());
                out.println("compensation: " + f.path("compensation").path("outcome").asText());
                f.path("compensation").path("actions").forEach(a -> out.println("  " + a.asText()));
            }
            if (m.hasNonNull("detail")) {
                out.println("detail:    " + m.get("detail").asText());
            }
            return EXIT_OK;
        }
    }

    @Command(name = "advance", mixinStandardHelpOptions = true,
            description = "Ticks a migration once: starts, polls or finishes its current step.")
    static final class Advance implements Callable<Integer> {
        @ParentCommand
        FleetCli root;

        @CommandLine.Mixin
        ClientOptions client = new ClientOptions();

        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            String path = migrationPath(id) + "/advance";
            JsonNode m = client.client(root).post(path, null);
            root.out().println(Format.progressLine(m));
            return EXIT_OK;
        }
    }

    @Command(name = "abort", mixinStandardHelpOptions = true,
            description = "Aborts a migration: both nodes are put back as they were, and it ends FAILED.")
    static final class Abort implements Callable<Integer> {
        @ParentCommand
        FleetCli root;

        @CommandLine.Mixin
        ClientOptions client = new ClientOptions();

        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Option(names = "--reason", paramLabel = "TEXT", description = "Why; shown on the failed migration.")
        String reason;

        @Override
        public Integer call() {
            ObjectNode body = Json.object();
            if (reason != null) {
                body.put("reason", reason);
            }
            String path = migrationPath(id) + "/fail";
            JsonNode m = client.client(root).post(path, body);
            root.out().println(m.path("id").asText() + ": failed (" + m.path("failure").path("reason").asText() + ")");
            return EXIT_OK;
        }
    }

}
