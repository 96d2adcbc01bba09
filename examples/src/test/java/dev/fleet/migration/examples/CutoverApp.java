package dev.fleet.migration.examples;

import static dev.fleet.migration.examples.CutoverEnvironment.docker;
import static dev.fleet.migration.examples.CutoverEnvironment.dockerQuietly;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The app the cutover tests move: busybox {@code httpd} on the host network, listening on every
 * address (so the proxy reaches it as 127.0.0.1:PORT on node a and as 127.0.0.2:PORT on node b:
 * both engines share this machine's loopback), its port in the {@code fleet.port} label, its
 * scripts and data in one named volume, run with {@code --init}.
 *
 * <p><b>Which copy answered.</b> The volume, the container filesystem (committed and moved), the
 * environment and (host network) the hostname all move or are shared, so none of them tells the
 * two copies apart. What differs is the container itself: each time the container starts, its
 * command writes its own container id, read from the bind mount of {@code /etc/hostname} in
 * {@code /proc/self/mountinfo} ({@code <data-root>/containers/<id>/hostname}), to {@code /www/who}
 * outside the volume, and httpd serves it as a static file ({@code GET /who}: cheap, no CGI, so the
 * 10 ms poller does not load the app). The source's id is known when it starts, the target's once
 * the migration created it; {@link #role} maps an answer to either.
 *
 * <p><b>Writes.</b> {@code /cgi-bin/append?N} appends the line {@code N} to {@code /data/records}
 * in the volume, fsyncs it ({@code sync FILE}) and only then answers {@code 200 ok N <container id>}.
 *
 * <p><b>A graceful stop.</b> busybox httpd has none: on SIGTERM it dies with the requests it is
 * serving (a CGI killed half-way answers an empty 200). Like any server that is stopped for a
 * cutover, the app stops accepting on SIGTERM and gives the requests in flight 100 ms to finish
 * before it exits; docker's {@code --init} passes SIGTERM to that shell.
 */
public final class CutoverApp {
    static final String ID_FROM_MOUNTINFO =
            "sed -n 's#.*/containers/\\([0-9a-f]*\\)/hostname /etc/hostname .*#\\1#p' /proc/self/mountinfo";
    private static final String APPEND = "#!/bin/sh\n"
            + "n=\"$QUERY_STRING\"\n"
            + "case \"$n\" in ''|*[!0-9]*) printf 'Status: 400 Bad Request\\r\\nContent-Type: text/plain\\r\\n\\r\\nbad\\n'; exit 0;; esac\n"
            + "echo \"$n\" >> /data/records\n"
            + "sync /data/records || exit 1\n"
            + "printf 'Content-Type: text/plain\\r\\n\\r\\n'\n"
            + "echo \"ok $n $(" + ID_FROM_MOUNTINFO + ")\"\n";

    public final String name;
    public final String volume;
    public final int port;
    public final String sourceHost;
    public final String sourceContainer;
    private volatile String targetContainer = "";

    private CutoverApp(String name, String volume, int port, String sourceHost, String sourceContainer) {
        this.name = name;
        this.volume = volume;
        this.port = port;
        this.sourceHost = sourceHost;
        this.sourceContainer = sourceContainer;
    }

    /** A fresh name with {@code prefix}, for apps, volumes and routes that never collide with another run's. */
    public static String freshName(String prefix) {
        return prefix + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);
    }

    /** A port free on every address of this machine (the app binds the wildcard address). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new AssertionError("no free port: " + e, e);
        }
    }

    /**
     * Starts the app on the engine at {@code dockerHost}; {@code extraRunArgs} go to
     * {@code docker run} before the image (e.g. a healthcheck). Waits until it serves.
     */
    public static CutoverApp start(String dockerHost, String name, List<String> extraRunArgs) {
        String volume = name + "-data";
        int port = freePort();
        String image = CutoverEnvironment.image();
        docker(dockerHost, "volume", "create", volume);
        // the scripts travel as environment variables, so no shell quoting stands between them and the files
        docker(dockerHost, "run", "--rm", "-v", volume + ":/data", "-e", "APPEND=" + APPEND,
                image, "sh", "-c", "mkdir -p /data/cgi-bin && printf '%s' \"$APPEND\" > /data/cgi-bin/append"
                        + " && chmod 755 /data/cgi-bin/append && : > /data/records");
        List<String> run = new ArrayList<>(List.of("run", "-d", "--name", name, "--init", "--network", "host",
                "--restart", "unless-stopped", "--label", "fleet.port=" + port, "-v", volume + ":/data"));
        run.addAll(extraRunArgs);
        run.addAll(List.of(image, "sh", "-c", command(port)));
        String id = docker(dockerHost, run.toArray(String[]::new));
        CutoverApp app = new CutoverApp(name, volume, port, dockerHost, id);
        app.awaitServing("127.0.0.1", id, 20_000);
        return app;
    }

    /** What the container runs: who am I, then httpd, stopped gracefully on SIGTERM. */
    static String command(int port) {
        return "mkdir -p /www && " + ID_FROM_MOUNTINFO + " > /www/who && ln -sfn /data/cgi-bin /www/cgi-bin || exit 1\n"
                + "httpd -f -p " + port + " -h /www &\n"
                + "p=$!\n"
                + "trap 'kill $p; sleep 0.1; exit 0' TERM\n"
                + "wait $p\n";
    }

    /** Records the container the migration created on the target (by name, on {@code targetHost}). */
    public void learnTarget(String targetHost) {
        targetContainer = docker(targetHost, "inspect", "--format", "{{.Id}}", name);
    }

    public String targetContainer() {
        return targetContainer;
    }

    /** "source", "target", or "unknown <id>" for a container id an answer carried. */
    public String role(String containerId) {
        if (containerId.equals(sourceContainer)) {
            return "source";
        }
        if (!targetContainer.isEmpty() && containerId.equals(targetContainer)) {
            return "target";
        }
        return "unknown " + containerId;
    }

    /** Waits (deadline) until {@code host}:port answers /who with {@code containerId}. */
    public void awaitServing(String host, String containerId, long deadlineMillis) {
        long until = System.nanoTime() + deadlineMillis * 1_000_000;
        String last = "nothing";
        while (System.nanoTime() < until) {
            try {
                HttpGet.Answer a = HttpGet.get(host + ":" + port, null, "/who", 2000);
                if (a.status() == 200 && a.body().strip().equals(containerId)) {
                    return;
                }
                last = "HTTP " + a.status() + " " + a.body().strip();
            } catch (IOException e) {
                last = e.toString();
            }
            CutoverEnvironment.sleep(50);
        }
        throw new AssertionError("app " + name + " did not serve from container " + containerId + " on " + host + ":"
                + port + " within " + deadlineMillis + " ms; last: " + last);
    }

    /**
     * The lines of {@code /data/records} in the app's volume, as the container named {@link #name}
     * on {@code host} sees them, each as written (a line that is not a number is kept as it is,
     * NUL bytes shown as {@code \0}, so a damaged file shows).
     */
    public List<String> recordLines(String host) {
        List<String> out = new ArrayList<>();
        for (String line : docker(host, "exec", name, "cat", "/data/records").split("\n")) {
            out.add(line.replace("\0", "\\0"));
        }
        return out;
    }

    /** Removes every container and volume of this app (the retired source too) from both engines. */
    public void removeEverywhere() {
        for (String host : List.of(CutoverEnvironment.dockerA(), CutoverEnvironment.dockerB())) {
            for (String n : dockerQuietly(host, "ps", "-a", "--format", "{{.Names}}").split("\n")) {
                if (n.equals(name) || n.startsWith(name + ".migrated-")) {
                    dockerQuietly(host, "rm", "-f", n);
                }
            }
            for (String v : dockerQuietly(host, "volume", "ls", "--format", "{{.Name}}").split("\n")) {
                if (v.startsWith(name)) {
                    dockerQuietly(host, "volume", "rm", "-f", v);
                }
            }
        }
    }
}
