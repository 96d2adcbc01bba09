package dev.fleet.migration.proxy;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ConflictException;
import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.UnavailableException;
import dev.fleet.migration.core.spi.ProxyRouter;
import dev.fleet.migration.core.spi.Upstream;
import dev.fleet.migration.proxy.internal.AtomicFiles;
import dev.fleet.migration.proxy.internal.HttpProbe;
import dev.fleet.migration.proxy.internal.RouteNames;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@link ProxyRouter} for nginx: one file per app, {@code <routes dir>/route-<name>.conf} (or
 * {@code compose-<project>.conf}), holding one {@code server} block for the app's host that
 * {@code proxy_pass}es to its one upstream. The main nginx.conf must {@code include
 * <routes dir>/*.conf} inside {@code http}.
 *
 * <p>A switch: write the file atomically (temp file in the same directory, fsync, rename),
 * {@code nginx -t}, {@code nginx -s reload}, then verify through nginx itself: each file carries
 * a fresh generation token that nginx adds to every answer of that route as
 * {@code X-Fleet-Route}, and the router polls the route on fresh connections until the token is
 * the new one and stays so for 150 ms, the time nginx's old workers may still accept
 * connections after a reload (deadline configurable). A failed test, reload or verification restores the old
 * file (and reloads) and throws. nginx reloads gracefully: old workers finish their requests
 * while new workers take new connections, so no route ever points at nothing.
 *
 * <p>The expected check runs under a JVM lock plus an exclusive file lock on
 * {@code <routes dir>/.fleet-routes.lock}, so routers in other processes sharing the directory
 * are serialised too. The binary, prefix and config paths must be absolute; names that reach a
 * file name or nginx's config are checked against allow-lists; nginx runs from an argument list.
 */
public final class NginxProxyRouter implements ProxyRouter {
    static final String ROUTE_HEADER = "X-Fleet-Route";
    /** How long only the new route must answer before a switch counts as done (see {@link #verify}). */
    static final Duration SETTLE = Duration.ofMillis(150);
    private static final Pattern HEADER_LINE =
            Pattern.compile("# fleet-route app=(\\S+) upstream=(\\S+) generation=([0-9a-f]+)\n");
    private static final Pattern LISTEN_HOST = Pattern.compile("[0-9.]+|\\[[0-9a-fA-F:]+\\]|[a-z0-9.-]+");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path binary;
    private final Path prefix;
    private final Path conf;
    private final Path routesDir;
    private final String listenHost;
    private final int listenPort;
    private final String probeAddress;
    private final Function<AppRef, String> hostMapper;
    private final Duration verifyDeadline;
    private final Duration commandTimeout;
    private final ReentrantLock lock = new ReentrantLock();

    private NginxProxyRouter(Builder b) {
        this.binary = b.binary;
        this.prefix = b.prefix;
        this.conf = b.conf;
        this.routesDir = b.routesDir;
        this.listenHost = b.listenHost;
        this.listenPort = b.listenPort;
        this.probeAddress = b.probeAddress;
        this.hostMapper = b.hostMapper;
        this.verifyDeadline = b.verifyDeadline;
        this.commandTimeout = b.commandTimeout;
    }

    /**
     * @param binary    absolute path of the nginx binary
     * @param prefix    nginx's {@code -p} prefix
     * @param conf      nginx's {@code -c} main config, which includes {@code routesDir/*.conf}
     * @param routesDir the directory this router owns: one file per app
     */
    public static Builder builder(Path binary, Path prefix, Path conf, Path routesDir) {
        return new Builder(binary, prefix, conf, routesDir);
    }

    @Override
    public Optional<Upstream> current(AppRef app) {
        return readRoute(fileOf(app)).map(Route::upstream);
    }

    @Override
    public void switchTo(AppRef app, Optional<Upstream> expected, Upstream next) {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(next, "next");
        String host = RouteNames.hostOf(hostMapper, app);
        Path file = fileOf(app);
        withLock(() -> {
            Optional<Route> now = readRoute(file);
            if (now.isPresent()) {
                if (now.get().upstream().equals(next)) {
                    return;
                }
                if (expected.isPresent() && !expected.get().equals(now.get().upstream())) {
                    throw new ConflictException("route of '" + app + "' (nginx " + file + ") points at " + now.get().upstream()
                            + ", not at the expected " + expected.get() + "; refusing to switch it to " + next);
                }
            }
            String generation = HexFormat.of().formatHex(randomBytes());
            byte[] old = now.map(Route::content).orElse(null);
            write(file, render(app, host, next, generation).getBytes(StandardCharsets.UTF_8));
            try {
                test();
                reload();
            } catch (RuntimeException e) {
                restore(file, old, false);
                throw e;
            }
            try {
                verify(host, generation);
            } catch (RuntimeException e) {
                restore(file, old, true);
                throw e;
            }
        });
    }

    @Override
    public void remove(AppRef app) {
        Path file = fileOf(app);
        withLock(() -> {
            Optional<Route> now = readRoute(file);
            if (now.isEmpty()) {
                return;
            }
            delete(file);
            try {
                test();
                reload();
            } catch (RuntimeException e) {
                restore(file, now.get().content(), false);
                throw e;
            }
        });
    }

    /** The server block of one app's route; every interpolated value was checked against an allow-list. */
    String render(AppRef app, String host, Upstream upstream, String generation) {
        return "# fleet-route app=" + app.id() + " upstream=" + upstream.dial() + " generation=" + generation + "\n"
                + "# written by dev.fleet.migration.proxy.NginxProxyRouter; replaced on every switch\n"
                + "server {\n"
                + "    listen " + listenHost + ":" + listenPort + ";\n"
                + "    server_name " + host + ";\n"
                + "    location / {\n"
                + "        proxy_pass http://" + upstream.dial() + ";\n"
                + "        proxy_http_version 1.1;\n"
                + "        proxy_set_header Connection \"\";\n"
                + "        proxy_set_header Host $host;\n"
                + "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
                + "        add_header " + ROUTE_HEADER + " " + generation + " always;\n"
                + "    }\n"
                + "}\n";
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return b;
    }

    private record Route(Upstream upstream, String generation, byte[] content) {}

    private Path fileOf(AppRef app) {
        String name = dev.fleet.migration.core.Names.require("route file", RouteNames.key(app) + ".conf",
                dev.fleet.migration.core.Names.FILE_NAME, 255);
        return routesDir.resolve(name);
    }

    private Optional<Route> readRoute(Path file) {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new ProxyException(name(), "cannot read " + file + ": " + e, e);
        }
        String text = new String(content, StandardCharsets.UTF_8);
        Matcher m = HEADER_LINE.matcher(text);
        if (!m.lookingAt()) {
            throw new ProxyException(name(), file + " was not written by this router (no fleet-route header line)");
        }
        return Optional.of(new Route(RouteNames.parseDial(m.group(2)), m.group(3), content));
    }

    private void write(Path file, byte[] content) {
        try {
            AtomicFiles.write(file, content);
        } catch (IOException e) {
            throw new ProxyException(name(), "cannot write " + file + ": " + e, e);
        }
    }

    private void delete(Path file) {
        try {
            AtomicFiles.delete(file);
        } catch (IOException e) {
            throw new ProxyException(name(), "cannot delete " + file + ": " + e, e);
        }
    }

    /** Puts the previous file back (or removes the new one); reloads when nginx already runs the new one. */
    private void restore(Path file, byte[] old, boolean reload) {
        try {
            if (old == null) {
                delete(file);
            } else {
                write(file, old);
            }
            if (reload) {
                reload();
            }
        } catch (RuntimeException e) {
            // the original failure is the one to report; the rollback failure rides along
            throw new ProxyException(name(), "rolling back " + file + " failed too: " + e.getMessage(), e);
        }
    }

    private void test() {
        Result r = nginx("-t");
        if (r.exit != 0) {
            throw new ProxyException(name(), "nginx -t refused the new config, so it was rolled back: " + r.output);
        }
    }

    private void reload() {
        Result r = nginx("-s", "reload");
        if (r.exit != 0) {
            if (r.output.contains("invalid PID") || r.output.contains("No such process") || r.output.contains("nginx.pid")) {
                throw new UnavailableException(name() + " is not running (nginx -s reload: " + r.output + ")");
            }
            throw new ProxyException(name(), "nginx -s reload failed: " + r.output);
        }
    }

    /**
     * Polls the route through nginx on fresh connections until every answer for {@link #SETTLE}
     * carries {@code generation}. Seeing the new generation once is not enough: nginx's master
     * starts the new workers, sleeps 100 ms, and only then tells the old ones to stop accepting,
     * so for that while a new connection may still land on an old worker with the old route.
     */
    private void verify(String host, String generation) {
        long deadline = System.nanoTime() + verifyDeadline.toNanos();
        long stableSince = -1;
        String last = "no answer yet";
        while (true) {
            boolean fresh = false;
            try {
                HttpProbe.Answer a = HttpProbe.get(probeAddress, listenPort, host, ROUTE_HEADER, 2000);
                fresh = a.header().filter(generation::equals).isPresent();
                last = "HTTP " + a.status() + " " + ROUTE_HEADER + "=" + a.header().orElse("(none)");
            } catch (IOException e) {
                last = e.toString();
            }
            long now = System.nanoTime();
            if (!fresh) {
                stableSince = -1;
            } else if (stableSince < 0) {
                stableSince = now;
            } else if (now - stableSince >= SETTLE.toNanos()) {
                return;
            }
            if (now > deadline) {
                throw new ProxyException(name(), "nginx still does not serve only the new route for " + host + " after "
                        + verifyDeadline.toMillis() + " ms (last answer: " + last + "); rolled back");
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UnavailableException(name() + ": interrupted while verifying the route of " + host, e);
            }
        }
    }

    private record Result(int exit, String output) {}

    private Result nginx(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(binary.toString(), "-p", prefix.toString(), "-c", conf.toString()));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = readAll(p.getInputStream());
            if (!p.waitFor(commandTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new UnavailableException(name() + ": " + String.join(" ", cmd) + " did not finish in " + commandTimeout.toMillis() + " ms");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).strip());
        } catch (IOException e) {
            throw new ProxyException(name(), "cannot run " + binary + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnavailableException(name() + ": interrupted while running nginx", e);
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
    }

    private void withLock(Runnable body) {
        lock.lock();
        try (FileChannel ch = FileChannel.open(routesDir.resolve(".fleet-routes.lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
            body.run();
        } catch (IOException e) {
            throw new ProxyException(name(), "cannot lock " + routesDir + ": " + e, e);
        } finally {
            lock.unlock();
        }
    }

    private String name() {
        return "nginx " + conf;
    }

    /** Explicit construction; the paths are required, the rest has defaults. */
    public static final class Builder {
        private final Path binary;
        private final Path prefix;
        private final Path conf;
        private final Path routesDir;
        private String listenHost = "127.0.0.1";
        private int listenPort = 80;
        private String probeAddress = "127.0.0.1";
        private Function<AppRef, String> hostMapper = RouteNames.subdomainsOf("fleet.test");
        private Duration verifyDeadline = Duration.ofSeconds(10);
        private Duration commandTimeout = Duration.ofSeconds(30);

        private Builder(Path binary, Path prefix, Path conf, Path routesDir) {
            this.binary = absolute("nginx.binary", binary);
            this.prefix = absolute("nginx.prefix", prefix);
            this.conf = absolute("nginx.conf", conf);
            this.routesDir = absolute("nginx.routesDir", routesDir);
        }

        private static Path absolute(String field, Path p) {
            if (p == null || !p.isAbsolute() || p.toString().contains("\n") || p.toString().contains(";")) {
                throw new InvalidInputException(field, p == null ? null : p.toString(), "must be an absolute path without ';' or newlines");
            }
            return p.normalize();
        }

        /** Where the app server blocks listen (default {@code 127.0.0.1:80}); also where the switch is verified. */
        public Builder listen(String host, int port) {
            this.listenHost = dev.fleet.migration.core.Names.require("nginx.listen", host, LISTEN_HOST, 255);
            if (port < 1 || port > 65535) {
                throw new InvalidInputException("nginx.listen", String.valueOf(port), "port must be in 1..65535");
            }
            this.listenPort = port;
            this.probeAddress = "0.0.0.0".equals(host) || "[::]".equals(host) ? "127.0.0.1" : host.replace("[", "").replace("]", "");
            return this;
        }

        /** Maps an app to its {@code server_name}; default {@code <name>.fleet.test}. */
        public Builder hostMapper(Function<AppRef, String> mapper) {
            this.hostMapper = Objects.requireNonNull(mapper, "hostMapper");
            return this;
        }

        public Builder domain(String domain) {
            return hostMapper(RouteNames.subdomainsOf(domain));
        }

        /** How long a switch waits for nginx to serve the new route before rolling back (default 10 s). */
        public Builder verifyDeadline(Duration deadline) {
            this.verifyDeadline = Objects.requireNonNull(deadline);
            return this;
        }

        public NginxProxyRouter build() {
            return new NginxProxyRouter(this);
        }
    }
}
