package dev.fleet.migration.http.resilience;

import dev.fleet.migration.http.TestHttp;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** {@code fleet serve} from the runnable jar, as its own process: started, waited for, killed. */
final class ControlPlaneProcess {
    private final Process process;
    private final Path log;
    private final String url;

    private ControlPlaneProcess(Process process, Path log, String url) {
        this.process = process;
        this.log = log;
        this.url = url;
    }

    static ControlPlaneProcess start(Path jar, Path config, int port, Map<String, String> env, Path log) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info", "-jar", jar.toString(),
                "serve", "--config", config.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().remove("FLEET_TEST_CRASH_AT");
        pb.environment().remove("FLEET_TEST_CRASH_MODE");
        pb.environment().putAll(env);
        ControlPlaneProcess p = new ControlPlaneProcess(pb.start(), log, "http://127.0.0.1:" + port);
        p.awaitUp(Duration.ofSeconds(60));
        return p;
    }

    String url() {
        return url;
    }

    long pid() {
        return process.pid();
    }

    private void awaitUp(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the control plane exited with " + process.exitValue() + ":\n" + tail());
            }
            try {
                if (TestHttp.send("GET", url + "/api/nodes", ResilienceFleet.OPERATOR, null).status() == 200) {
                    return;
                }
            } catch (RuntimeException e) {
                // not listening yet
            }
            sleep(50);
        }
        throw new AssertionError("the control plane did not answer within " + within + ":\n" + tail());
    }

    /** Waits until the control plane reports the armed crash point ({@code hang} mode) and returns. */
    void awaitCrashPoint(String point, Duration within) {
        String line = "fleet-test-crash-point " + point;
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            if (logText().contains(line)) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("the control plane exited before crash point " + point + ":\n" + tail());
            }
            sleep(10);
        }
        throw new AssertionError("crash point " + point + " was not reached within " + within + ":\n" + tail());
    }

    /** SIGKILL, and wait until it is gone. */
    void kill() {
        if (process.isAlive()) {
            process.destroyForcibly(); // SIGKILL on Linux
        }
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("control plane " + process.pid() + " survived SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM, the way an operator stops it, and wait. */
    void stop() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                kill();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGSTOP / SIGCONT: pause and resume the whole process. */
    void signal(String name) {
        try {
            Process p = new ProcessBuilder("kill", "-" + name, "--", String.valueOf(process.pid())).start();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    String tail() {
        String all = logText();
        return all.length() <= 4000 ? all : all.substring(all.length() - 4000);
    }

    private static void sleep(long ms) {
        try {
            TimeUnit.MILLISECONDS.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
