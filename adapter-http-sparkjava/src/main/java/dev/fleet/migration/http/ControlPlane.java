package dev.fleet.migration.http;

import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.spi.MigrationStore;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.core.spi.NoopProxyRouter;
import dev.fleet.migration.core.spi.ProxyRouter;
import dev.fleet.migration.http.agent.HttpNodeAgent;
import dev.fleet.migration.http.api.ControlPlaneApi;
import dev.fleet.migration.http.api.HttpServers;
import dev.fleet.migration.http.api.Routes;
import dev.fleet.migration.http.config.FleetConfig;
import dev.fleet.migration.http.metrics.MigrationMetrics;
import dev.fleet.migration.http.security.BearerAuth;
import dev.fleet.migration.http.security.TlsSettings;
import dev.fleet.migration.core.spi.MigrationLeases;
import dev.fleet.migration.store.jdbc.JdbcMigrationStore;
import dev.fleet.migration.store.jdbc.PostgresMigrationStore;
import dev.fleet.migration.store.jdbc.SqliteMigrationStore;
import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Service;

/**
 * The composition root of a control plane: the store, one {@link NodeAgent} per node (the
 * {@link HttpNodeAgent} of its agent, or any agent a test or an embedding passes), the proxy
 * router, the {@link Orchestrator} with its scheduler, the metrics, and the HTTP server with the
 * API and the Control Panel. Everything is wired explicitly here.
 */
public final class ControlPlane implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlPlane.class);

    private final Orchestrator orchestrator;
    private final MigrationStore store;
    private final Service http;
    private final ControlPlaneApi api;
    private final MigrationMetrics metrics;
    private final String host;
    private final boolean secure;
    private final List<AutoCloseable> owned;
    private final java.time.Duration retention;
    private final java.time.Duration sweepEvery;
    private java.util.concurrent.ScheduledExecutorService sweeper;
    private Routes routes;

    private ControlPlane(Builder b) {
        this.store = Objects.requireNonNull(b.store, "store (or a config naming one)");
        this.metrics = new MigrationMetrics(store.list());
        Orchestrator.Builder ob = Orchestrator.builder().store(store).router(b.router).clock(b.clock)
                .settings(b.settings).listener(metrics);
        if (b.ids != null) {
            ob.ids(b.ids);
        }
        if (b.leases != null) {
            ob.leases(b.leases, b.replica, b.leaseTtl);
        }
        b.nodes.forEach((id, n) -> ob.node(n.agent(), n.upstreamHost()));
        this.orchestrator = ob.build();
        Map<NodeId, String> urls = new LinkedHashMap<>();
        b.nodes.forEach((id, n) -> n.agentUrl().ifPresent(u -> urls.put(id, u)));
        Map<String, String> others = b.agentToken == null ? Map.of() : Map.of("control plane's agent", b.agentToken);
        this.api = new ControlPlaneApi(orchestrator, new BearerAuth("operator", b.operatorToken, others), urls,
                metrics::scrape);
        this.host = b.host;
        this.secure = b.tls.isPresent();
        this.http = HttpServers.create(b.host, b.port, b.tls, b.maxThreads);
        this.owned = new ArrayList<>(b.owned);
        this.retention = b.retention;
        this.sweepEvery = b.sweepEvery;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder filled from a config file: the SQLite (or other) store, one
     * {@link HttpNodeAgent} per node, the proxy router the config names ({@link Wiring#router}),
     * the tokens, the listen address and the scheduler. Anything may still be overridden before
     * {@link Builder#start()}.
     */
    public static Builder fromConfig(FleetConfig config) {
        Builder b = builder().listen(config.controlPlane().host(), config.controlPlane().port())
                .operatorToken(config.tokens().operator()).agentToken(config.tokens().agent())
                .settings(config.orchestratorSettings())
                .retention(java.time.Duration.ofDays(config.retentionDays()));
        config.controlPlane().tls().ifPresent(b::tls);
        b.router(Wiring.router(config));
        FleetConfig.StoreSection sc = config.store();
        JdbcMigrationStore store = sc.kind().equals("postgres")
                ? PostgresMigrationStore.builder(sc.url().orElseThrow()).user(sc.user().orElse(null))
                        .password(sc.password().orElse(null)).open()
                : SqliteMigrationStore.open(sc.path());
        b.store(store);
        b.owned.add(store);
        // replicas sharing the store tick each migration by lease; a restarted control plane with
        // the same name (by default its listen address) takes its own leases back at once
        String listen = config.controlPlane().host() + ":" + (config.controlPlane().port() != 0
                ? String.valueOf(config.controlPlane().port())
                : "0-" + java.util.UUID.randomUUID().toString().substring(0, 8)); // a free port is a new name
        b.leases(store.leases(), sc.replica().orElse("cp@" + listen), sc.leaseTtl());
        for (FleetConfig.Node n : config.nodes()) {
            HttpNodeAgent agent = HttpNodeAgent.builder(n.id(), URI.create(n.agentUrl()))
                    .token(config.tokens().agent()).tls(config.agentClientTls().orElse(null)).build();
            b.node(agent, n.upstreamHost(), n.agentUrl());
        }
        return b;
    }

    /** Starts the HTTP server and the scheduler. */
    public ControlPlane start() {
        routes = api.register(http);
        HttpServers.start(http, "control plane");
        orchestrator.start();
        if (!sweepEvery.isZero()) {
            sweeper = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "fleet-retention-sweep");
                t.setDaemon(true);
                return t;
            });
            sweeper.scheduleWithFixedDelay(this::sweepArchives, 0, sweepEvery.toMillis(),
                    java.util.concurrent.TimeUnit.MILLISECONDS);
        }
        log.info("control plane listening on {} with nodes {}", url(), orchestrator.nodes());
        return this;
    }

    /**
     * The retention sweep, as the scheduler runs it (at start, then every hour by default): each
     * node removes the archives of migrations that ended longer ago than the retention.
     */
    public List<String> sweepArchives() {
        try {
            return orchestrator.sweepArchives(retention);
        } catch (RuntimeException e) {
            log.warn("retention sweep failed: {}", e.toString());
            return List.of();
        }
    }

    public int port() {
        return http.port();
    }

    public String url() {
        return (secure ? "https://" : "http://") + host + ":" + port();
    }

    public Orchestrator orchestrator() {
        return orchestrator;
    }

    public MigrationStore store() {
        return store;
    }

    public MigrationMetrics metrics() {
        return metrics;
    }

    /** The API routes as registered, {@code "GET /api/migrations/{id}"}; after {@link #start()}. */
    public List<String> routes() {
        return routes.registered();
    }

    @Override
    public void close() {
        if (sweeper != null) {
            sweeper.shutdownNow();
        }
        orchestrator.close();
        http.stop();
        http.awaitStop();
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                log.warn("closing {} failed: {}", c, e.toString());
            }
        }
    }

    private record NodeEntry(NodeAgent agent, String upstreamHost, Optional<String> agentUrl) {}

    /** Builds a {@link ControlPlane}. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 8080;
        private String operatorToken;
        private String agentToken;
        private MigrationStore store;
        private final Map<NodeId, NodeEntry> nodes = new LinkedHashMap<>();
        private ProxyRouter router = new NoopProxyRouter();
        private Clock clock = Clock.systemUTC();
        private Supplier<MigrationId> ids;
        private OrchestratorSettings settings = OrchestratorSettings.DEFAULTS;
        private Optional<TlsSettings> tls = Optional.empty();
        private int maxThreads = 64;
        private java.time.Duration retention = java.time.Duration.ofDays(7);
        private java.time.Duration sweepEvery = java.time.Duration.ofHours(1);
        private final List<AutoCloseable> owned = new ArrayList<>();
        private MigrationLeases leases;
        private String replica;
        private java.time.Duration leaseTtl;

        private Builder() {}

        /**
         * Shares the store's migrations with other control-plane replicas by lease (see
         * {@code Orchestrator.Builder.leases}); without it this control plane ticks them all.
         */
        public Builder leases(MigrationLeases leases, String replica, java.time.Duration ttl) {
            this.leases = Objects.requireNonNull(leases, "leases");
            this.replica = replica;
            this.leaseTtl = ttl;
            return this;
        }

        /** Where to listen; port 0 picks a free one. */
        public Builder listen(String host, int port) {
            this.host = host;
            this.port = port;
            return this;
        }

        /** The operators' token: the only one the control-plane API accepts. */
        public Builder operatorToken(String token) {
            this.operatorToken = token;
            return this;
        }

        /** The control plane's token for its agents; refused on the control-plane API with 403. */
        public Builder agentToken(String token) {
            this.agentToken = token;
            return this;
        }

        public Builder store(MigrationStore store) {
            this.store = store;
            return this;
        }

        /** Adds a node served by any agent (in-process, or an {@link HttpNodeAgent}). */
        public Builder node(NodeAgent agent, String upstreamHost) {
            return node(agent, upstreamHost, null);
        }

        public Builder node(NodeAgent agent, String upstreamHost, String agentUrl) {
            if (nodes.putIfAbsent(agent.node(), new NodeEntry(agent, upstreamHost, Optional.ofNullable(agentUrl)))
                    != null) {
                throw new IllegalArgumentException("node " + agent.node() + " was added twice");
            }
            return this;
        }

        public Builder router(ProxyRouter router) {
            this.router = Objects.requireNonNull(router, "router");
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public Builder ids(Supplier<MigrationId> ids) {
            this.ids = ids;
            return this;
        }

        public Builder settings(OrchestratorSettings settings) {
            this.settings = settings;
            return this;
        }

        public Builder tls(TlsSettings tls) {
            this.tls = Optional.ofNullable(tls);
            return this;
        }

        /** How long archives of ended migrations are kept on the nodes; 7 days by default. */
        public Builder retention(java.time.Duration retention) {
            if (retention.isNegative() || retention.isZero()) {
                throw new IllegalArgumentException("retention must be positive, but was " + retention);
            }
            this.retention = retention;
            return this;
        }

        /** How often the retention sweep runs; hourly by default, zero turns it off. */
        public Builder sweepEvery(java.time.Duration every) {
            this.sweepEvery = Objects.requireNonNull(every, "every");
            return this;
        }

        public Builder maxThreads(int maxThreads) {
            this.maxThreads = maxThreads;
            return this;
        }

        public ControlPlane build() {
            try {
                return new ControlPlane(this);
            } catch (RuntimeException e) {
                for (AutoCloseable c : owned) {
                    try {
                        c.close();
                    } catch (Exception suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                throw e;
            }
        }

        /** Builds and starts. */
        public ControlPlane start() {
            return build().start();
        }
    }
}
