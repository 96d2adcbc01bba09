package dev.fleet.migration.http.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.core.MigrationException;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.http.security.TlsSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one YAML file a control plane and its agents read. Loaded with {@link #load(Path)} or
 * {@link #parse(String, String, Map)}; every rule broken is reported as a {@link ConfigException}
 * naming the file, the line and the key. Unknown keys are errors (a typo must not silently
 * fall back to a default).
 *
 * <pre>{@code
 * controlPlane:
 *   listen: 127.0.0.1:8080
 *   tls: {keystore: cp.p12, keystorePassword: secret}      # optional
 * agentTls: {truststore: ca.p12, truststorePassword: s}     # optional: control plane -> agents
 * store: {kind: sqlite, path: /var/lib/fleet/control-plane.db}
 *   # or, for replicas: {kind: postgres, url: jdbc:postgresql://db:5432/fleet, user: fleet,
 *   #                    password: env:FLEET_DB_PASSWORD, replica: cp-1, leaseTtl: 15s}
 * tokens: {operator: env:FLEET_OPERATOR_TOKEN, agent: env:FLEET_AGENT_TOKEN}
 * retentionDays: 7
 * scheduler: {interval: 1s, maxActivePerNode: 2, stepTimeout: 6h, healthDeadline: 60s}
 * proxy: {kind: caddy, adminUrl: http://127.0.0.1:2019}     # none | caddy | nginx
 * transport:
 *   default: rsync                                          # rsync | scp | shared-dir
 *   pairs: [{from: a, to: b, kind: shared-dir}]
 * nodes:
 *   - id: a
 *     agentUrl: http://127.0.0.1:7001
 *     docker: unix:///run/fleet-a/docker.sock
 *     ssh: root@127.0.0.1:22
 *     archiveDir: /var/lib/fleet/migrations
 *     pool: plain                                           # plain | btrfs | zfs
 *     poolRoot: /srv/pool/fleet                             # with btrfs or zfs: where restored volumes go
 *     upstreamHost: 127.0.0.1
 * }</pre>
 *
 * A token given as {@code env:NAME} is read from that environment variable.
 */
public record FleetConfig(String file, ControlPlaneSection controlPlane, Optional<TlsSettings> agentClientTls,
                          StoreSection store, Tokens tokens, int retentionDays, Scheduler scheduler,
                          Proxy proxy, Transport transport, List<Node> nodes) {

    public record ControlPlaneSection(String host, int port, Optional<TlsSettings> tls) {}

    /**
     * The store: {@code sqlite} (a file at {@code path}, the default) or {@code postgres} (the
     * database at {@code url}, shared by control-plane replicas). {@code replica} names this
     * control plane among the replicas (default: its listen address), {@code leaseTtl} how long
     * a replica's lease on a migration lasts unless renewed (default 15 s).
     */
    public record StoreSection(String kind, Path path, Optional<String> url, Optional<String> user,
                               Optional<String> password, Optional<String> replica, Duration leaseTtl) {
        public StoreSection(String kind, Path path) {
            this(kind, path, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                    Duration.ofSeconds(15));
        }

        @Override
        public String toString() {
            return "StoreSection[kind=" + kind + ", path=" + path + ", url=" + url + ", user=" + user
                    + ", password=" + password.map(x -> "***") + ", replica=" + replica + ", leaseTtl=" + leaseTtl + "]";
        }
    }

    public record Tokens(String operator, String agent) {}

    public record Scheduler(Duration interval, int maxActivePerNode, Duration stepTimeout, Duration healthDeadline) {}

    /**
     * The reverse proxy. Caddy: {@code adminUrl}, {@code server} (the server in Caddy's config
     * that holds the routes) and {@code domain} (an app's route matches {@code <app>.<domain>}).
     * nginx: {@code binary}, {@code prefix}, {@code conf}, {@code routesDir}, {@code listen}, {@code domain}.
     */
    public record Proxy(String kind, Optional<String> adminUrl, Map<String, String> options) {
        public Proxy {
            options = Map.copyOf(options);
        }

        public Optional<String> option(String key) {
            return Optional.ofNullable(options.get(key));
        }
    }

    public record Pair(NodeId from, NodeId to, String kind) {}

    public record Transport(String defaultKind, List<Pair> pairs) {
        /** The transport for a pair of nodes: the pair's own, else the default. */
        public String between(NodeId from, NodeId to) {
            return pairs.stream().filter(p -> p.from().equals(from) && p.to().equals(to)).map(Pair::kind)
                    .findFirst().orElse(defaultKind);
        }
    }

    /**
     * One node. The agent listens where {@code agentUrl} points unless {@code listen} says otherwise;
     * {@code tls} is the agent's own server TLS.
     */
    /**
     * One node. {@code sshKey} and {@code knownHosts} are what this node's agent uses to push
     * archives to the other nodes over rsync or scp (the other nodes' {@code ssh} endpoints).
     */
    public record Node(NodeId id, String agentUrl, String listenHost, int listenPort, Optional<String> docker,
                       Optional<String> ssh, Path archiveDir, String pool, String upstreamHost,
                       Optional<TlsSettings> tls, Optional<Path> sshKey, Optional<Path> knownHosts,
                       Optional<Path> dockerTlsDir, boolean checkHostPorts, Optional<Path> poolRoot) {}

    private static final Set<String> TRANSPORTS = Set.of("rsync", "scp", "shared-dir");
    private static final Set<String> POOLS = Set.of("plain", "btrfs", "zfs");
    private static final Set<String> PROXIES = Set.of("none", "caddy", "nginx");
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");
    private static final Pattern LISTEN = Pattern.compile("(.+):(\\d{1,5})");

    public OrchestratorSettings orchestratorSettings() {
        return new OrchestratorSettings(scheduler.interval(), scheduler.maxActivePerNode(), scheduler.stepTimeout(),
                scheduler.healthDeadline());
    }

    public Optional<Node> node(String id) {
        return nodes.stream().filter(n -> n.id().value().equals(id)).findFirst();
    }

    public static FleetConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file.toString(), 0, "", "cannot be read: " + e);
        }
        return parse(text, file.toString(), System.getenv());
    }

    public static FleetConfig parse(String yaml, String file, Map<String, String> env) {
        return new Reader(YamlTree.parse(yaml, file), file, env).read();
    }

    /** Walks the tree, checking each key and remembering which it has seen. */
    private static final class Reader {
        private final YamlTree tree;
        private final String file;
        private final Map<String, String> env;

        Reader(YamlTree tree, String file, Map<String, String> env) {
            this.tree = tree;
            this.file = file;
            this.env = env;
        }

        FleetConfig read() {
            JsonNode root = tree.root;
            if (!root.isObject()) {
                throw error("", "the file must be a YAML mapping at the top");
            }
            keys(root, "", "controlPlane", "agentTls", "store", "tokens", "retentionDays", "scheduler", "proxy",
                    "transport", "nodes");
            JsonNode cp = object(root, "controlPlane", false);
            String[] listen = listen(cp, "controlPlane.listen", "127.0.0.1:8080");
            keys(cp, "controlPlane", "listen", "tls");
            ControlPlaneSection cps = new ControlPlaneSection(listen[0], Integer.parseInt(listen[1]),
                    tls(cp, "controlPlane.tls"));
            Optional<TlsSettings> agentTls = tls(root, "agentTls");

            JsonNode st = object(root, "store", false);
            keys(st, "store", "kind", "path", "url", "user", "password", "replica", "leaseTtl");
            String kind = string(st, "store.kind", false, "sqlite");
            if (!kind.equals("sqlite") && !kind.equals("postgres")) {
                throw error("store.kind", "must be sqlite or postgres, but was '" + kind + "'");
            }
            Optional<String> storeUrl = Optional.ofNullable(string(st, "store.url", false, null));
            if (kind.equals("postgres") && (storeUrl.isEmpty() || !storeUrl.get().startsWith("jdbc:postgresql://"))) {
                throw error("store.url", "is required when store.kind is postgres, as jdbc:postgresql://host:port/database");
            }
            Optional<String> storePassword = Optional.ofNullable(string(st, "store.password", false, null));
            if (storePassword.isPresent() && storePassword.get().startsWith("env:")) {
                String name = storePassword.get().substring(4);
                String value = env.get(name);
                if (value == null || value.isEmpty()) {
                    throw error("store.password", "names environment variable " + name + ", which is not set");
                }
                storePassword = Optional.of(value);
            }
            StoreSection store = new StoreSection(kind,
                    Path.of(string(st, "store.path", false, "/var/lib/fleet/control-plane.db")), storeUrl,
                    Optional.ofNullable(string(st, "store.user", false, null)), storePassword,
                    Optional.ofNullable(string(st, "store.replica", false, null)),
                    duration(st, "store.leaseTtl", "15s", false));

            JsonNode tk = object(root, "tokens", true);
            keys(tk, "tokens", "operator", "agent");
            Tokens tokens = new Tokens(token(tk, "tokens.operator"), token(tk, "tokens.agent"));
            if (tokens.operator().equals(tokens.agent())) {
                throw error("tokens.agent", "must differ from tokens.operator: each role needs its own token");
            }

            int retention = (int) integer(root, "retentionDays", 7, 1, 3650);

            JsonNode sc = object(root, "scheduler", false);
            keys(sc, "scheduler", "interval", "maxActivePerNode", "stepTimeout", "healthDeadline");
            Scheduler scheduler = new Scheduler(duration(sc, "scheduler.interval", "1s", true),
                    (int) integer(sc, "scheduler.maxActivePerNode", 2, 1, 1000),
                    duration(sc, "scheduler.stepTimeout", "6h", false),
                    duration(sc, "scheduler.healthDeadline", "60s", false));

            JsonNode px = object(root, "proxy", false);
            keys(px, "proxy", "kind", "adminUrl", "server", "domain", "binary", "prefix", "conf", "routesDir",
                    "listen");
            String proxyKind = oneOf(px, "proxy.kind", "none", PROXIES);
            Optional<String> adminUrl = Optional.ofNullable(string(px, "proxy.adminUrl", false, null)).map(u ->
                    url(u, "proxy.adminUrl"));
            Map<String, String> proxyOptions = new java.util.TreeMap<>();
            for (String k : List.of("server", "domain", "binary", "prefix", "conf", "routesDir", "listen")) {
                String v = string(px, "proxy." + k, false, null);
                if (v != null) {
                    proxyOptions.put(k, v);
                }
            }
            if (proxyKind.equals("caddy") && adminUrl.isEmpty()) {
                throw error("proxy.adminUrl", "is required when proxy.kind is caddy (e.g. http://127.0.0.1:2019)");
            }
            if (proxyKind.equals("nginx")) {
                for (String k : List.of("binary", "prefix", "conf", "routesDir", "listen")) {
                    if (!proxyOptions.containsKey(k)) {
                        throw error("proxy." + k, "is required when proxy.kind is nginx");
                    }
                }
            }

            JsonNode tr = object(root, "transport", false);
            keys(tr, "transport", "default", "pairs");
            String defaultTransport = oneOf(tr, "transport.default", "rsync", TRANSPORTS);

            List<Node> nodes = nodes(root);
            Set<NodeId> ids = new HashSet<>();
            nodes.forEach(n -> ids.add(n.id()));
            List<Pair> pairs = new ArrayList<>();
            JsonNode pa = tr.get("pairs");
            if (pa != null && !pa.isNull()) {
                if (!pa.isArray()) {
                    throw error("transport.pairs", "must be a list of {from, to, kind}");
                }
                for (int i = 0; i < pa.size(); i++) {
                    String at = "transport.pairs[" + i + "]";
                    JsonNode p = pa.get(i);
                    keys(p, at, "from", "to", "kind");
                    NodeId from = knownNode(p, at + ".from", ids);
                    NodeId to = knownNode(p, at + ".to", ids);
                    pairs.add(new Pair(from, to, oneOf(p, at + ".kind", null, TRANSPORTS)));
                }
            }
            return new FleetConfig(file, cps, agentTls, store, tokens, retention, scheduler,
                    new Proxy(proxyKind, adminUrl, proxyOptions), new Transport(defaultTransport, pairs), nodes);
        }

        private List<Node> nodes(JsonNode root) {
            JsonNode ns = root.get("nodes");
            if (ns == null || !ns.isArray() || ns.size() < 2) {
                throw error("nodes", "must list at least two nodes (each with id and agentUrl)");
            }
            List<Node> nodes = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < ns.size(); i++) {
                String at = "nodes[" + i + "]";
                JsonNode n = ns.get(i);
                if (!n.isObject()) {
                    throw error(at, "must be a mapping with id, agentUrl, ...");
                }
                keys(n, at, "id", "agentUrl", "listen", "docker", "ssh", "archiveDir", "pool", "upstreamHost", "tls",
                        "sshKey", "knownHosts", "dockerTlsDir", "checkHostPorts", "poolRoot");
                String id = string(n, at + ".id", true, null);
                NodeId nodeId = valid(at + ".id", () -> NodeId.of(id));
                if (!seen.add(id)) {
                    throw error(at + ".id", "repeats node '" + id + "'; node ids must be unique");
                }
                String agentUrl = url(string(n, at + ".agentUrl", true, null), at + ".agentUrl");
                URI u = URI.create(agentUrl);
                int defaultPort = u.getPort() > 0 ? u.getPort() : (u.getScheme().equals("https") ? 443 : 80);
                String[] listen = listen(n, at + ".listen", u.getHost() + ":" + defaultPort);
                Optional<String> ssh = Optional.ofNullable(string(n, at + ".ssh", false, null));
                ssh.ifPresent(s -> {
                    if (!s.matches("[a-z_][a-z0-9_-]{0,31}@[a-zA-Z0-9.-]+(:\\d{1,5})?")) {
                        throw error(at + ".ssh", "must look like user@host[:port], but was '" + s + "'");
                    }
                });
                Optional<String> docker = Optional.ofNullable(string(n, at + ".docker", false, null));
                docker.ifPresent(d -> {
                    if (!d.startsWith("unix://") && !d.startsWith("tcp://")) {
                        throw error(at + ".docker", "must be a unix:// or tcp:// Docker endpoint, but was '" + d + "'");
                    }
                });
                String archiveDir = string(n, at + ".archiveDir", false, "/var/lib/fleet/migrations");
                if (!archiveDir.startsWith("/")) {
                    throw error(at + ".archiveDir", "must be an absolute path, but was '" + archiveDir + "'");
                }
                String pool = oneOf(n, at + ".pool", "plain", POOLS);
                Optional<Path> poolRoot = Optional.ofNullable(string(n, at + ".poolRoot", false, null)).map(r -> {
                    if (!r.startsWith("/")) {
                        throw error(at + ".poolRoot", "must be an absolute path, but was '" + r + "'");
                    }
                    if (pool.equals("plain")) {
                        throw error(at + ".poolRoot", "needs pool: btrfs or zfs (the kind of pool it is on)");
                    }
                    return Path.of(r);
                });
                nodes.add(new Node(nodeId, agentUrl, listen[0], Integer.parseInt(listen[1]), docker, ssh,
                        Path.of(archiveDir), pool,
                        string(n, at + ".upstreamHost", false, "127.0.0.1"), tls(n, at + ".tls"),
                        Optional.ofNullable(string(n, at + ".sshKey", false, null)).map(Path::of),
                        Optional.ofNullable(string(n, at + ".knownHosts", false, null)).map(Path::of),
                        Optional.ofNullable(string(n, at + ".dockerTlsDir", false, null)).map(Path::of),
                        !"false".equals(string(n, at + ".checkHostPorts", false, "true")), poolRoot));
            }
            return nodes;
        }

        // ------------------------------------------------------------ typed values

        private Optional<TlsSettings> tls(JsonNode parent, String path) {
            JsonNode t = parent.get(last(path));
            if (t == null || t.isNull()) {
                return Optional.empty();
            }
            if (!t.isObject()) {
                throw error(path, "must be a mapping with keystore, keystorePassword, truststore, ...");
            }
            keys(t, path, "keystore", "keystorePassword", "truststore", "truststorePassword", "clientAuth");
            JsonNode ca = t.get("clientAuth");
            try {
                return Optional.of(new TlsSettings(
                        Optional.ofNullable(string(t, path + ".keystore", false, null)).map(Path::of),
                        string(t, path + ".keystorePassword", false, ""),
                        Optional.ofNullable(string(t, path + ".truststore", false, null)).map(Path::of),
                        string(t, path + ".truststorePassword", false, ""),
                        ca != null && ca.asBoolean(false)));
            } catch (IllegalArgumentException e) {
                throw error(path, e.getMessage());
            }
        }

        private String token(JsonNode parent, String path) {
            String v = string(parent, path, true, null);
            if (v.startsWith("env:")) {
                String name = v.substring(4);
                String value = env.get(name);
                if (value == null || value.isEmpty()) {
                    throw error(path, "names environment variable " + name + ", which is not set");
                }
                v = value;
            }
            if (v.length() < 16) {
                throw error(path, "must be at least 16 characters long (was " + v.length() + ")");
            }
            return v;
        }

        private String[] listen(JsonNode parent, String path, String def) {
            String v = string(parent, path, false, def);
            Matcher m = LISTEN.matcher(v);
            if (!m.matches() || Integer.parseInt(m.group(2)) > 65535) {
                throw error(path, "must be host:port with a port in 0..65535, but was '" + v + "'");
            }
            return new String[] {m.group(1), m.group(2)};
        }

        private String url(String v, String path) {
            try {
                URI u = new URI(v);
                if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
                        || u.getHost() == null) {
                    throw error(path, "must be an http:// or https:// URL with a host, but was '" + v + "'");
                }
                return v.endsWith("/") ? v.substring(0, v.length() - 1) : v;
            } catch (java.net.URISyntaxException e) {
                throw error(path, "must be a URL, but was '" + v + "': " + e.getReason());
            }
        }

        private Duration duration(JsonNode parent, String path, String def, boolean zeroAllowed) {
            String v = string(parent, path, false, def);
            Duration d;
            Matcher m = DURATION.matcher(v.strip());
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                d = switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            } else {
                try {
                    d = Duration.parse(v);
                } catch (DateTimeParseException e) {
                    throw error(path, "must be a duration like 500ms, 1s, 5m, 6h or PT1S, but was '" + v + "'");
                }
            }
            if (d.isNegative() || (!zeroAllowed && d.isZero())) {
                throw error(path, "must be " + (zeroAllowed ? "zero or positive" : "positive") + ", but was '" + v + "'");
            }
            return d;
        }

        private long integer(JsonNode parent, String path, long def, long min, long max) {
            JsonNode v = parent.get(last(path));
            if (v == null || v.isNull()) {
                return def;
            }
            if (!v.isIntegralNumber()) {
                throw error(path, "must be a whole number, but was '" + v.asText() + "'");
            }
            long n = v.asLong();
            if (n < min || n > max) {
                throw error(path, "must be in " + min + ".." + max + ", but was " + n);
            }
            return n;
        }

        private String oneOf(JsonNode parent, String path, String def, Set<String> allowed) {
            String v = string(parent, path, def == null, def);
            if (!allowed.contains(v)) {
                throw error(path, "must be one of " + String.join(", ", allowed.stream().sorted().toList())
                        + ", but was '" + v + "'");
            }
            return v;
        }

        private NodeId knownNode(JsonNode parent, String path, Set<NodeId> ids) {
            String v = string(parent, path, true, null);
            NodeId id = valid(path, () -> NodeId.of(v));
            if (!ids.contains(id)) {
                throw error(path, "names unknown node '" + v + "'; configured nodes: "
                        + String.join(", ", ids.stream().map(NodeId::value).sorted().toList()));
            }
            return id;
        }

        private String string(JsonNode parent, String path, boolean required, String def) {
            JsonNode v = parent.get(last(path));
            if (v == null || v.isNull()) {
                if (required) {
                    throw error(path, "is required");
                }
                return def;
            }
            if (!v.isValueNode()) {
                throw error(path, "must be a single value, but was a " + (v.isArray() ? "list" : "mapping"));
            }
            return v.asText();
        }

        private JsonNode object(JsonNode parent, String key, boolean required) {
            JsonNode v = parent.get(key);
            if (v == null || v.isNull()) {
                if (required) {
                    throw error(key, "is required");
                }
                return com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
            }
            if (!v.isObject()) {
                throw error(key, "must be a mapping");
            }
            return v;
        }

        private void keys(JsonNode o, String path, String... known) {
            if (!o.isObject()) {
                throw error(path, "must be a mapping");
            }
            Set<String> k = Set.of(known);
            for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (!k.contains(name)) {
                    String at = path.isEmpty() ? name : path + "." + name;
                    throw error(at, "is not a known key; expected one of " + String.join(", ", known));
                }
            }
        }

        private <T> T valid(String path, java.util.function.Supplier<T> make) {
            try {
                return make.get();
            } catch (MigrationException e) {
                throw error(path, e.getMessage());
            }
        }

        private static String last(String path) {
            int dot = path.lastIndexOf('.');
            return dot < 0 ? path : path.substring(dot + 1);
        }

        private ConfigException error(String path, String message) {
            return new ConfigException(file, tree.line(path), path, message);
        }
    }

}
