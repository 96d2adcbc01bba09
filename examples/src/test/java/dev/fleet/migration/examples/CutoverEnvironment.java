package dev.fleet.migration.examples;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.UnavailableException;
import dev.fleet.migration.proxy.CaddyProxyRouter;
import dev.fleet.migration.proxy.NginxProxyRouter;
import dev.fleet.migration.proxy.internal.RouteNames;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Where the real parts of the cutover tests are, read from the variables that
 * {@code scripts/ci/services/docker.sh} and {@code scripts/ci/services/proxy.sh} export. A missing
 * variable fails the test and names it: these tests never skip.
 */
public final class CutoverEnvironment {
    private CutoverEnvironment() {}

    public static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new AssertionError("environment variable " + name + " is not set: run the tests through "
                    + "scripts/test.sh, or first `bash scripts/ci/services/docker.sh up /tmp/fleet-cut && bash "
                    + "scripts/ci/services/proxy.sh up /tmp/fleet-cut && source /tmp/fleet-cut/docker.env && source "
                    + "/tmp/fleet-cut/proxy.env`");
        }
        return v;
    }

    public static String dockerA() {
        return env("FLEET_TEST_DOCKER_A");
    }

    public static String dockerB() {
        return env("FLEET_TEST_DOCKER_B");
    }

    public static String image() {
        return env("FLEET_TEST_IMAGE");
    }

    public static Path archiveA() {
        return Path.of(env("FLEET_TEST_ARCHIVE_A"));
    }

    public static Path archiveB() {
        return Path.of(env("FLEET_TEST_ARCHIVE_B"));
    }

    public static String caddyHttp() {
        return env("FLEET_TEST_CADDY_HTTP");
    }

    public static String nginxHttp() {
        return env("FLEET_TEST_NGINX_HTTP");
    }

    public static CaddyProxyRouter caddyRouter() {
        return CaddyProxyRouter.builder(env("FLEET_TEST_CADDY_ADMIN")).server(env("FLEET_TEST_CADDY_SERVER")).build();
    }

    public static NginxProxyRouter nginxRouter() {
        String[] listen = nginxHttp().split(":");
        return NginxProxyRouter.builder(Path.of(env("FLEET_TEST_NGINX_BIN")), Path.of(env("FLEET_TEST_NGINX_PREFIX")),
                        Path.of(env("FLEET_TEST_NGINX_CONF")), Path.of(env("FLEET_TEST_NGINX_CONF_DIR")))
                .listen(listen[0], Integer.parseInt(listen[1]))
                .build();
    }

    /** The Host header both routers' default mapper gives {@code app}. */
    public static String hostOf(String app) {
        return RouteNames.subdomainsOf("fleet.test").apply(AppRef.parse(app));
    }

    /** Runs the docker CLI against {@code host}; its trimmed output, or an AssertionError with it. */
    public static String docker(String host, String... args) {
        List<String> cmd = new ArrayList<>(List.of("docker", "-H", host));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new AssertionError("could not run " + cmd + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + cmd, e);
        }
    }

    public static String dockerQuietly(String host, String... args) {
        try {
            return docker(host, args);
        } catch (AssertionError e) {
            return "";
        }
    }

    /** The test Caddy proxy.sh started (from its pid file), killed with SIGKILL: a crash, admin and data plane both gone. */
    public static void killCaddy() {
        Path pidFile = Path.of(env("FLEET_TEST_CADDY_PIDFILE"));
        try {
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            ProcessHandle caddy = ProcessHandle.of(pid)
                    .orElseThrow(() -> new AssertionError("caddy pid " + pid + " from " + pidFile + " is not running"));
            caddy.destroyForcibly();
            caddy.onExit().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("could not kill the test caddy: " + e, e);
        }
    }

    /** True when the test Caddy's admin endpoint answers. */
    public static boolean caddyIsUp() {
        try {
            caddyRouter().current(AppRef.parse("probe"));
            return true;
        } catch (UnavailableException e) {
            return false;
        }
    }

    /**
     * Starts the test Caddy again from its autosaved config ({@code caddy run --resume}, the same
     * HOME and XDG dirs as proxy.sh gave it) and waits (deadline 15 s) for its admin API. It writes
     * the same pid file, so proxy.sh down stops it.
     */
    public static void restartCaddy() {
        Path dir = Path.of(env("FLEET_TEST_CADDY_DIR"));
        File log = dir.resolve("caddy.log").toFile();
        ProcessBuilder pb = new ProcessBuilder(env("FLEET_TEST_CADDY_BIN"), "run", "--resume",
                "--config", env("FLEET_TEST_CADDY_CONFIG"), "--pidfile", env("FLEET_TEST_CADDY_PIDFILE"))
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log))
                .redirectError(ProcessBuilder.Redirect.appendTo(log));
        pb.environment().put("HOME", dir.resolve("home").toString());
        pb.environment().put("XDG_DATA_HOME", dir.resolve("data").toString());
        pb.environment().put("XDG_CONFIG_HOME", dir.resolve("config").toString());
        try {
            pb.start();
        } catch (IOException e) {
            throw new AssertionError("could not restart caddy: " + e, e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!caddyIsUp()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("caddy did not come back within 15 s; see " + log);
            }
            sleep(50);
        }
    }

    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
