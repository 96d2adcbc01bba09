package dev.fleet.migration.transport.internal;

import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.TransportException;
import dev.fleet.migration.core.spi.TransportException.Reason;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs one external program from an argument list (never a shell string): stdin from
 * /dev/null, stdout split into records at CR or LF and handed to a consumer, stderr kept
 * (the last 64 KiB) for the error message, the C locale so messages can be read. It waits
 * for the exit with a deadline, and kills the program and its children on cancellation.
 */
public final class Spawned {
    private static final int STDERR_KEEP = 64 * 1024;
    private static final long POLL_MILLIS = 100;

    /** What a finished program left. */
    public record Exit(int code, String stdout, String stderr) {}

    private Spawned() {}

    /**
     * @param argv       the program and its arguments, as they reach execve
     * @param onRecord   each stdout record (CR- or LF-terminated) as it comes
     * @param keepStdout whether to keep stdout (small outputs only) in the result
     * @throws TransportException CANCELLED when cancelled, IO when it cannot start or overruns
     *                            the deadline
     */
    public static Exit run(List<String> argv, Consumer<String> onRecord, boolean keepStdout,
                           Cancellation cancellation, Duration deadline) {
        cancellation.check("starting " + argv.get(0));
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("LC_ALL", "C");
        pb.environment().put("LANG", "C");
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new TransportException(Reason.IO, "cannot start " + argv.get(0) + ": " + e.getMessage(), e);
        }
        StringBuilder stdout = new StringBuilder();
        Tail stderr = new Tail();
        Thread outReader = reader(process.getInputStream(), record -> {
            if (keepStdout) {
                synchronized (stdout) {
                    if (stdout.length() < 1 << 20) {
                        stdout.append(record).append('\n');
                    }
                }
            }
            onRecord.accept(record);
        }, argv.get(0) + "-stdout");
        Thread errReader = reader(process.getErrorStream(), stderr::add, argv.get(0) + "-stderr");
        long until = System.nanoTime() + deadline.toNanos();
        try {
            while (!process.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                if (cancellation.isCancelled()) {
                    kill(process);
                    throw new TransportException(Reason.CANCELLED, argv.get(0) + " was cancelled");
                }
                if (System.nanoTime() - until > 0) {
                    kill(process);
                    throw new TransportException(Reason.IO, argv.get(0) + " did not finish within " + deadline);
                }
            }
            outReader.join(TimeUnit.SECONDS.toMillis(10));
            errReader.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            kill(process);
            Thread.currentThread().interrupt();
            throw new TransportException(Reason.CANCELLED, argv.get(0) + " was interrupted", e);
        }
        String out;
        synchronized (stdout) {
            out = stdout.toString();
        }
        return new Exit(process.exitValue(), out, stderr.text());
    }

    /**
     * Starts a program whose stdin we write and whose stdout we read line by line (an ssh
     * session running {@link RemoteDialog#SCRIPT}); stderr is kept for the error message.
     */
    public static RemoteDialog dialog(List<String> argv, Cancellation cancellation) {
        cancellation.check("starting " + argv.get(0));
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().put("LC_ALL", "C");
        pb.environment().put("LANG", "C");
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new TransportException(Reason.IO, "cannot start " + argv.get(0) + ": " + e.getMessage(), e);
        }
        Tail stderr = new Tail();
        reader(process.getErrorStream(), stderr::add, argv.get(0) + "-stderr");
        return new RemoteDialog(process.getInputStream(), process.getOutputStream(),
                () -> process.isAlive() ? OptionalInt.empty() : OptionalInt.of(process.exitValue()), stderr::text,
                () -> kill(process));
    }

    /** Kills the program and everything it started (ssh under rsync), children first. */
    static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Thread reader(InputStream in, Consumer<String> onRecord, String name) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[8192];
            StringBuilder record = new StringBuilder();
            try (in) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    String chunk = new String(buf, 0, n, StandardCharsets.UTF_8);
                    for (int i = 0; i < chunk.length(); i++) {
                        char c = chunk.charAt(i);
                        if (c == '\r' || c == '\n') {
                            if (record.length() > 0) {
                                onRecord.accept(record.toString());
                                record.setLength(0);
                            }
                        } else if (record.length() < 8192) {
                            record.append(c);
                        }
                    }
                }
                if (record.length() > 0) {
                    onRecord.accept(record.toString());
                }
            } catch (InterruptedIOException ignored) {
                // the process was killed
            } catch (IOException ignored) {
                // the stream closed with the process
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The last {@value #STDERR_KEEP} characters of stderr. */
    private static final class Tail {
        private final StringBuilder text = new StringBuilder();

        synchronized void add(String line) {
            text.append(line).append('\n');
            if (text.length() > STDERR_KEEP) {
                text.delete(0, text.length() - STDERR_KEEP);
            }
        }

        synchronized String text() {
            return text.toString();
        }
    }
}
