package dev.fleet.migration.transport.internal;

import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.TransportException;
import dev.fleet.migration.core.spi.TransportException.Reason;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * One OpenSSH connection that every ssh call of a transfer shares ({@code ControlMaster}): the
 * preflight, rsync's own ssh, the verification and the rename then each open a channel on it
 * instead of logging in again. A login with today's key exchange costs about 0.3 s of CPU,
 * which is as much as the whole transfer of a few hundred MiB on loopback.
 *
 * <p>The control socket lives in a fresh directory only this user can enter (mode 0700): whoever
 * can connect to it runs commands on the target as our user. The master is this JVM's child
 * and dies with {@link #close()}; the clients use {@code ControlMaster=no}, so when the master
 * is gone they log in on their own rather than fail.
 *
 * <p>Host-key policy and authentication are the master's: it runs the same strict ssh command
 * line, and its failure is classified like any other ssh failure.
 */
public final class SshMaster implements AutoCloseable {
    private static final String SAFE_PATH = "/[a-zA-Z0-9_./-]+";
    /** Masters still running, ended by a shutdown hook if the JVM exits in the middle of a transfer. */
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroy), "ssh-master-reaper"));
    }

    private final Process process;
    private final Path directory;
    private final Path socket;

    private SshMaster(Process process, Path directory, Path socket) {
        this.process = process;
        this.directory = directory;
        this.socket = socket;
    }

    /**
     * Starts the master and waits until its socket accepts clients.
     *
     * @param sshBase     the strict ssh command line without the destination
     * @param destination {@code user@host}
     * @param timeout     how long the login may take
     * @param failure     turns the master's stderr into the precise exception when it exits early
     */
    public static SshMaster start(List<String> sshBase, String destination, Duration timeout,
                                  Cancellation cancellation, Function<String, TransportException> failure) {
        cancellation.check("starting ssh");
        Path dir;
        try {
            dir = Files.createTempDirectory("fleet-ssh",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException | UnsupportedOperationException e) {
            throw new TransportException(Reason.IO, "cannot create a private directory for the ssh control socket: "
                    + e.getMessage(), e);
        }
        Path socket = dir.resolve("m");
        if (!socket.toString().matches(SAFE_PATH) || socket.toString().length() > 100) {
            // rsync's -e splits on spaces and a unix socket path is short; an odd java.io.tmpdir ends here
            deleteQuietly(dir, socket);
            throw new TransportException(Reason.IO, "the ssh control socket path " + socket
                    + " must match " + SAFE_PATH + " and be at most 100 characters; set java.io.tmpdir accordingly");
        }
        List<String> argv = new ArrayList<>(sshBase);
        argv.addAll(List.of("-M", "-S", socket.toString(), "-o", "ControlPersist=no", "-N", "--", destination));
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("LC_ALL", "C");
        pb.environment().put("LANG", "C");
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            deleteQuietly(dir, socket);
            throw new TransportException(Reason.IO, "cannot start " + argv.get(0) + ": " + e.getMessage(), e);
        }
        LIVE.add(process);
        SshMaster master = new SshMaster(process, dir, socket);
        StringBuilder stderr = new StringBuilder();
        Thread errReader = drain(process.getErrorStream(), stderr);
        long until = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(5);
        // the socket appears once the login succeeded; poll finely, a login takes a few hundred ms
        while (!Files.exists(socket)) {
            if (!process.isAlive()) {
                try {
                    errReader.join(TimeUnit.SECONDS.toMillis(5));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                master.close();
                String err;
                synchronized (stderr) {
                    err = stderr.toString();
                }
                throw failure.apply(err);
            }
            if (cancellation.isCancelled()) {
                master.close();
                throw new TransportException(Reason.CANCELLED, "ssh was cancelled");
            }
            if (System.nanoTime() - until > 0) {
                master.close();
                throw new TransportException(Reason.HOST_UNREACHABLE, "cannot reach " + destination
                        + ": the ssh login did not finish within " + timeout);
            }
            LockSupport.parkNanos(5_000_000L);
        }
        return master;
    }

    /** The options that make an ssh client use this master. */
    public List<String> clientOptions() {
        return List.of("-S", socket.toString(), "-o", "ControlMaster=no");
    }

    /** Ends the master connection and removes its socket directory. Idempotent. */
    @Override
    public void close() {
        // SIGTERM: ssh removes its socket and closes the connection
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        LIVE.remove(process);
        deleteQuietly(directory, socket);
    }

    private static Thread drain(InputStream in, StringBuilder into) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[4096];
            try (in) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    synchronized (into) {
                        if (into.length() < 64 * 1024) {
                            into.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                        }
                    }
                }
            } catch (IOException ignored) {
                // the master ended
            }
        }, "ssh-master-stderr");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void deleteQuietly(Path dir, Path socket) {
        try {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // a leftover empty directory in the temp dir is harmless
        }
    }
}
