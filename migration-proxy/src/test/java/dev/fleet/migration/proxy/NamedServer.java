package dev.fleet.migration.proxy;

import com.sun.net.httpserver.HttpServer;
import dev.fleet.migration.core.spi.Upstream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/** A tiny upstream on 127.0.0.1 that answers every request with its own name; stoppable and restartable on its port. */
public final class NamedServer implements AutoCloseable {
    private final String name;
    private int port;
    private HttpServer server;

    public NamedServer(String name) {
        this.name = name;
        start(0);
    }

    public String name() {
        return name;
    }

    public Upstream upstream() {
        return new Upstream("127.0.0.1", port);
    }

    /** Listens again on the same port; does nothing when it already listens. */
    public synchronized void start() {
        if (server == null) {
            start(port);
        }
    }

    private synchronized void start(int onPort) {
        try {
            HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", onPort), 100);
            byte[] body = name.getBytes(StandardCharsets.UTF_8);
            s.createContext("/", ex -> {
                ex.getRequestBody().readAllBytes();
                ex.getResponseHeaders().add("Content-Type", "text/plain");
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            });
            s.setExecutor(Executors.newCachedThreadPool());
            s.start();
            this.server = s;
            this.port = s.getAddress().getPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start upstream " + name + " on 127.0.0.1:" + onPort, e);
        }
    }

    /** Stops listening at once: new connections are refused. */
    public synchronized void stop() {
        if (server != null) {
            server.stop(0);
            server = null;
        }
    }

    @Override
    public void close() {
        stop();
    }
}
