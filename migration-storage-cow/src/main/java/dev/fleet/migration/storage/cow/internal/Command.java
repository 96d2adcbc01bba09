package dev.fleet.migration.storage.cow.internal;

import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.Names;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Runs one external program from an argument list (never a shell) and turns a failure into a
 * {@link NodeOperationException} whose message holds the command line, the exit status and what
 * the program wrote to stderr. Streams are copied through a fixed 64 KiB buffer, so a stream of
 * any size passes in constant memory.
 */
public final class Command {
    /** How much of stdout (for short commands) and stderr is kept; the rest is counted, not kept. */
    private static final int KEEP = 64 * 1024;
    private static final int BUFFER = 64 * 1024;
    /** Short commands (list, snapshot, destroy) that take longer than this are killed. */
    private static final Duration SHORT_TIMEOUT = Duration.ofMinutes(5);
    private static final File DEV_NULL = new File("/dev/null");

    private final NodeId node;
    private final String operation;
    private final List<String> argv;

    private Command(NodeId node, String operation, List<String> argv) {
        this.node = node;
        this.operation = operation;
        this.argv = List.copyOf(argv);
    }

    /** A command run for {@code operation} (used in error messages: "snapshot on node n1 failed"). */
    public static Command of(NodeId node, String operation, List<String> argv) {
        return new Command(node, operation, argv);
    }

    /** What a finished short command left behind. */
    public record Result(int exitCode, String stdout, String stderr) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    /** Runs it to the end and returns its exit status and output, whatever the status. */
    public Result result() {
        Process p = start(ProcessBuilder.Redirect.from(DEV_NULL), ProcessBuilder.Redirect.PIPE);
        Drain out = Drain.start(p.getInputStream(), "stdout");
        Drain err = Drain.start(p.getErrorStream(), "stderr");
        try {
            if (!p.waitFor(SHORT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                throw fail("did not finish within " + SHORT_TIMEOUT.toMinutes() + " minutes; killed", err.text(), null);
            }
            return new Result(p.exitValue(), out.text(), err.text());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw fail("interrupted", err.text(), e);
        }
    }

    /** Runs it to the end; a non-zero exit status throws. Returns stdout. */
    public String run() {
        Result r = result();
        if (!r.ok()) {
            throw fail("exited with status " + r.exitCode(), r.stderr(), null);
        }
        return r.stdout();
    }

    /** True when it exits 0; false when it exits otherwise or cannot be started at all. */
    public boolean succeeds() {
        try {
            return result().ok();
        } catch (NodeOperationException e) {
            return false;
        }
    }

    /**
     * Runs it and copies its stdout to {@code sink} as it comes. Throws when the program exits
     * non-zero, or when {@code sink} refuses a write (the program is killed then).
     */
    public void streamTo(OutputStream sink) {
        Process p = start(ProcessBuilder.Redirect.from(DEV_NULL), ProcessBuilder.Redirect.PIPE);
        Drain err = Drain.start(p.getErrorStream(), "stderr");
        byte[] buf = new byte[BUFFER];
        try (InputStream in = p.getInputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                try {
                    sink.write(buf, 0, n);
                } catch (IOException e) {
                    p.destroyForcibly();
                    waitQuietly(p);
                    throw fail("the stream's consumer failed: " + e, err.text(), e);
                }
            }
            sink.flush();
        } catch (IOException e) {
            p.destroyForcibly();
            waitQuietly(p);
            throw fail("reading its output failed: " + e, err.text(), e);
        }
        int code = waitQuietly(p);
        if (code != 0) {
            throw fail("exited with status " + code, err.text(), null);
        }
    }

    /**
     * Runs it with {@code source} copied to its stdin, then closes stdin and waits. Throws when the
     * program exits non-zero (also when it stopped reading early), or when {@code source} fails
     * (the program is killed then, before it can finish with half a stream).
     */
    public void streamFrom(InputStream source) {
        Process p = start(ProcessBuilder.Redirect.PIPE, ProcessBuilder.Redirect.PIPE);
        Drain out = Drain.start(p.getInputStream(), "stdout");
        Drain err = Drain.start(p.getErrorStream(), "stderr");
        byte[] buf = new byte[BUFFER];
        String writeFailure = null;
        try (OutputStream stdin = p.getOutputStream()) {
            int n;
            while (true) {
                try {
                    n = source.read(buf);
                } catch (IOException e) {
                    // kill it first: closing stdin would tell it the stream ended normally
                    p.destroyForcibly();
                    waitQuietly(p);
                    throw fail("reading the incoming stream failed: " + e, err.text(), e);
                }
                if (n < 0) {
                    break;
                }
                try {
                    stdin.write(buf, 0, n);
                } catch (IOException e) {
                    writeFailure = e.toString(); // it stopped reading; its exit status says why
                    break;
                }
            }
        } catch (IOException e) {
            writeFailure = e.toString();
        }
        int code = waitQuietly(p);
        out.text();
        if (code != 0) {
            throw fail("exited with status " + code, err.text(), null);
        }
        if (writeFailure != null) {
            throw fail("stopped reading its input (" + writeFailure + ") but exited 0", err.text(), null);
        }
    }

    private Process start(ProcessBuilder.Redirect in, ProcessBuilder.Redirect out) {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectInput(in).redirectOutput(out);
        pb.environment().put("LC_ALL", "C"); // messages we quote in errors stay in one language
        try {
            return pb.start();
        } catch (IOException e) {
            throw fail("could not be started: " + e.getMessage(), "", e);
        }
    }

    private static int waitQuietly(Process p) {
        boolean interrupted = false;
        while (true) {
            try {
                int code = p.waitFor();
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                return code;
            } catch (InterruptedException e) {
                interrupted = true; // finish waiting: leaving a child behind is worse
                p.destroyForcibly();
            }
        }
    }

    private NodeOperationException fail(String what, String stderr, Throwable cause) {
        String msg = commandLine() + " " + what + (stderr.isBlank() ? "" : ": " + stderr.strip());
        return cause == null ? new NodeOperationException(node, operation, msg)
                : new NodeOperationException(node, operation, msg, cause);
    }

    /** The command line as it would be typed, each argument quoted only when needed, for messages. */
    public String commandLine() {
        return argv.stream()
                .map(a -> a.matches("[A-Za-z0-9_./@:=,+-]+") ? a : Names.quote(a))
                .collect(Collectors.joining(" "));
    }

    /** Reads one of the child's output streams on its own thread, keeping the first {@link #KEEP} bytes. */
    private static final class Drain extends Thread {
        private final InputStream in;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private long dropped;

        private Drain(InputStream in, String name) {
            super("cow-" + name);
            this.in = in;
            setDaemon(true);
        }

        static Drain start(InputStream in, String name) {
            Drain d = new Drain(in, name);
            d.start();
            return d;
        }

        @Override
        public void run() {
            byte[] buf = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    synchronized (this) {
                        int keep = Math.max(0, Math.min(n, KEEP - kept.size()));
                        kept.write(buf, 0, keep);
                        dropped += n - keep;
                    }
                }
            } catch (IOException ignored) {
                // the child is gone; what was read so far is what there is
            }
        }

        /** Everything read, once the stream has ended (the child has exited by then). */
        String text() {
            try {
                join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (this) {
                String s = kept.toString(StandardCharsets.UTF_8);
                return dropped == 0 ? s : s + " ... (" + dropped + " more bytes)";
            }
        }
    }
}
