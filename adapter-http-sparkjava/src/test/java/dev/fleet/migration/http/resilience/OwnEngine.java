package dev.fleet.migration.http.resilience;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Docker engine of one test's own, started the way {@code scripts/ci/services/docker.sh} starts
 * the two test engines (own data root, exec root, pid file, socket and supervised containerd in
 * its own namespace; no bridge, no iptables), but with its data root where the test says: on a
 * small loop filesystem, so that what the engine stores there (images, volumes) can fill it.
 * Started from this JVM with an argument list; {@link #close()} stops it (SIGTERM, then SIGKILL
 * by pid), unmounts whatever it left mounted below its roots and removes both.
 */
final class OwnEngine implements AutoCloseable {
    private static final Path DOCKERD = Path.of(System.getenv().getOrDefault("DOCKERD", "/usr/sbin/dockerd"));

    final String host;
    final Path dataRoot;
    private final Path runDir;
    private Process process;

    private OwnEngine(Path dataRoot, Path runDir) {
        this.dataRoot = dataRoot;
        this.runDir = runDir;
        this.host = "unix://" + runDir.resolve("docker.sock");
    }

    /**
     * Starts an engine with its data root at {@code dataRoot} (created) and its sockets, pid file
     * and log in {@code runDir} (created; keep it short: unix socket paths are limited to 107
     * bytes). Tries the overlay2 storage driver, then vfs, like docker.sh.
     */
    static OwnEngine start(Path dataRoot, Path runDir, String name) throws IOException {
        if (!Files.isExecutable(DOCKERD)) {
            throw new AssertionError(DOCKERD + " not found: install Debian's docker.io (scripts/ci/install-packages.sh)");
        }
        Files.createDirectories(dataRoot);
        Files.createDirectories(runDir.resolve("exec"));
        Files.writeString(runDir.resolve("daemon.json"), "{}");
        OwnEngine e = new OwnEngine(dataRoot, runDir);
        StringBuilder tried = new StringBuilder();
        for (String driver : List.of("overlay2", "vfs")) {
            e.process = e.launch(name, driver);
            if (e.awaitUp(Duration.ofSeconds(60))) {
                return e;
            }
            tried.append("\n--- storage driver ").append(driver).append(":\n").append(e.logTail());
            e.stopProcess();
        }
        e.close();
        throw new AssertionError("the engine on " + dataRoot + " did not start:" + tried);
    }

    private Process launch(String name, String driver) throws IOException {
        List<String> cmd = List.of(DOCKERD.toString(),
                "--config-file", runDir.resolve("daemon.json").toString(),
                "--data-root", dataRoot.toString(),
                "--exec-root", runDir.resolve("exec").toString(),
                "--pidfile", runDir.resolve("dockerd.pid").toString(),
                "-H", host,
                "--containerd-namespace", "fleet-" + name,
                "--containerd-plugins-namespace", "fleet-" + name + "-plugins",
                "--storage-driver", driver,
                "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false",
                "--userland-proxy=false", "--live-restore=false");
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(runDir.resolve("dockerd.log").toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    }

    /** Polls {@code docker info} until it answers; false when the daemon exited or the time ran out. */
    private boolean awaitUp(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                return false;
            }
            try {
                Process p = new ProcessBuilder("docker", "-H", host, "info", "--format", "{{.Driver}}")
                        .redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return true;
                }
                p.destroyForcibly();
                TimeUnit.MILLISECONDS.sleep(200);
            } catch (IOException e) {
                throw new AssertionError("cannot run the docker CLI: " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    String logTail() {
        try {
            String all = Files.readString(runDir.resolve("dockerd.log"), StandardCharsets.UTF_8);
            return all.length() <= 3000 ? all : all.substring(all.length() - 3000);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private void stopProcess() {
        if (process == null) {
            return;
        }
        // the supervised containerd, by the pid it wrote (a child of the daemon this test started)
        Long containerd = pidIn(runDir.resolve("exec").resolve("containerd").resolve("containerd.pid"));
        process.destroy(); // SIGTERM: the daemon stops containerd and unmounts what it mounted
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (containerd != null) {
            ProcessHandle.of(containerd).ifPresent(h -> {
                h.destroy();
                try {
                    h.onExit().get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    h.destroyForcibly();
                }
            });
        }
        process = null;
    }

    private static Long pidIn(Path file) {
        try {
            return Long.parseLong(Files.readString(file).strip());
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    /** Mount points at or below {@code root}, deepest first, from /proc/self/mountinfo. */
    static List<String> mountsBelow(Path root) {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4) {
                    String mp = f[4].replace("\\040", " ");
                    if (mp.equals(root.toString()) || mp.startsWith(root + "/")) {
                        out.add(mp);
                    }
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot read /proc/self/mountinfo: " + e, e);
        }
        out.sort(Comparator.comparing(String::length).reversed());
        return out;
    }

    @Override
    public void close() throws IOException {
        stopProcess();
        for (Path root : List.of(dataRoot, runDir)) {
            for (String mp : mountsBelow(root)) {
                try {
                    Process p = new ProcessBuilder("umount", "-l", mp).redirectErrorStream(true).start();
                    p.getInputStream().readAllBytes();
                    p.waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (Files.exists(root)) {
                try (Stream<Path> all = Files.walk(root)) {
                    for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }
}
