package dev.fleet.migration.http.api;

import dev.fleet.migration.http.problem.ProblemErrorHandler;
import dev.fleet.migration.http.security.TlsSettings;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ThreadPool;
import spark.Service;
import spark.embeddedserver.EmbeddedServers;
import spark.embeddedserver.jetty.EmbeddedJettyFactory;
import spark.embeddedserver.jetty.JettyServerFactory;

/** Starts a {@link Service} instance (never Spark's static API) and fails clearly when it cannot listen. */
public final class HttpServers {
    /** The start-up failure of each service, captured instead of Spark's default System.exit. */
    private static final Map<Service, AtomicReference<Exception>> FAILURES =
            java.util.Collections.synchronizedMap(new WeakHashMap<>());

    /** Spark's embedded Jetty, with Jetty's own error pages answered as problem+json. */
    private static final String PROBLEM_JETTY = "fleet-jetty-problem-errors";

    static {
        EmbeddedServers.add(PROBLEM_JETTY, new EmbeddedJettyFactory(new JettyServerFactory() {
            @Override
            public Server create(int maxThreads, int minThreads, int idleTimeoutMillis) {
                // what Spark's default factory does, plus the error handler
                return withProblems(maxThreads > 0 ? new Server(new QueuedThreadPool(maxThreads,
                        minThreads > 0 ? minThreads : 8, idleTimeoutMillis > 0 ? idleTimeoutMillis : 60_000))
                        : new Server());
            }

            @Override
            public Server create(ThreadPool pool) {
                return withProblems(pool != null ? new Server(pool) : new Server());
            }
        }));
    }

    private HttpServers() {}

    private static Server withProblems(Server server) {
        server.setErrorHandler(new ProblemErrorHandler());
        return server;
    }

    /** A configured, not yet started service. */
    public static Service create(String host, int port, Optional<TlsSettings> tls, int maxThreads) {
        Service http = Service.ignite().ipAddress(host).port(port).threadPool(maxThreads, 4, 30_000);
        http.embeddedServerIdentifier(PROBLEM_JETTY);
        AtomicReference<Exception> failure = new AtomicReference<>();
        http.initExceptionHandler(failure::set);
        FAILURES.put(http, failure);
        tls.ifPresent(t -> http.secure(t.keystore().map(Object::toString).orElseThrow(() ->
                        new IllegalArgumentException("a TLS server needs a keystore")), t.keystorePassword(),
                t.truststore().map(Object::toString).orElse(null),
                t.truststore().isPresent() ? t.truststorePassword() : null, t.clientAuth()));
        return http;
    }

    /** Starts the service after its routes were registered and waits until it listens. */
    public static void start(Service http, String what) {
        http.init();
        http.awaitInitialization();
        AtomicReference<Exception> failure = FAILURES.remove(http);
        if (failure != null && failure.get() != null) {
            http.stop();
            throw new IllegalStateException("cannot start the " + what + ": " + failure.get().getMessage(),
                    failure.get());
        }
    }
}
