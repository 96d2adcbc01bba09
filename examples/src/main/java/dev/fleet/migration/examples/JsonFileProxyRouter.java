package dev.fleet.migration.examples;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ConflictException;
import dev.fleet.migration.core.StoreException;
import dev.fleet.migration.core.spi.ProxyRouter;
import dev.fleet.migration.core.spi.Upstream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Properties;

/**
 * A custom {@link ProxyRouter}: the route table is a file ({@code app id = host:port} lines)
 * that some other program (a load balancer's config generator, a DNS updater) watches. Each
 * switch writes a temp file, fsyncs it and renames it over the table, so a reader sees the old
 * table or the new one, never half of one. It passes the same {@code ProxyRouterContract} as
 * the Caddy and nginx routers; see its test.
 */
public final class JsonFileProxyRouter implements ProxyRouter {
    private final Path table;

    public JsonFileProxyRouter(Path table) {
        this.table = table;
    }

    @Override
    public synchronized Optional<Upstream> current(AppRef app) {
        String v = read().getProperty(app.id());
        if (v == null) {
            return Optional.empty();
        }
        int colon = v.lastIndexOf(':');
        return Optional.of(new Upstream(v.substring(0, colon), Integer.parseInt(v.substring(colon + 1))));
    }

    @Override
    public synchronized void switchTo(AppRef app, Optional<Upstream> expected, Upstream next) {
        Properties routes = read();
        Optional<Upstream> now = current(app);
        if (now.isPresent() && now.get().equals(next)) {
            return; // already there: idempotent
        }
        if (expected.isPresent() && now.isPresent() && !now.equals(expected)) {
            throw new ConflictException("route of '" + app + "' points at " + now.get() + ", not at the expected "
                    + expected.get() + "; refusing to switch it to " + next);
        }
        routes.setProperty(app.id(), next.dial());
        write(routes);
    }

    @Override
    public synchronized void remove(AppRef app) {
        Properties routes = read();
        if (routes.remove(app.id()) != null) {
            write(routes);
        }
    }

    private Properties read() {
        Properties p = new Properties();
        if (Files.exists(table)) {
            try (InputStream in = Files.newInputStream(table)) {
                p.load(in);
            } catch (IOException e) {
                throw new StoreException("could not read the route table " + table + ": " + e.getMessage(), e);
            }
        }
        return p;
    }

    private void write(Properties routes) {
        Path tmp = table.resolveSibling("." + table.getFileName() + ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                routes.store(out, "fleet routes: app id = upstream");
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, table, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new StoreException("could not write the route table " + table + ": " + e.getMessage(), e);
        }
    }
}
